/**
 * The policy-change estimator (Fig. 3b): the closed-form Gaussian KL against hand-computed values, zero for an
 * unchanged policy, the previous policy found in memory or in the run folder, its own Rng (the agent's is left
 * alone), and clear errors for bad settings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { ConfigError } from "../../lib/core/errors";
import { Rng, deriveSeed } from "../../lib/core/rng";
import { SacAgent } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { FIDELITY_OPTIONS_BEFORE_PRESETS } from "../../lib/agents/sac/config";
import { estimatorNames, gaussianKl, makeEstimator, randomPolicyStates, type AnalysisContext } from "../../lib/analysis";

const LN2 = Math.log(2);
const f32 = (...v: number[]): Float32Array => Float32Array.from(v);

test("Gaussian KL: zero between identical policies, the closed form otherwise, summed over action dimensions", () => {
  const p = { mean: f32(0.3, -1.2, 0.5, 2), logStd: f32(-0.5, 0.1, 0, -2) };
  assert.deepEqual([...gaussianKl(p, p, 2)], [0, 0]);
  // KL(N(0, 1) || N(1, 2²)) = ln 2 + (1 + 1) / 8 − 1/2;  KL(N(1, 2²) || N(0, 1)) = −ln 2 + (4 + 1) / 2 − 1/2
  const a = { mean: f32(0), logStd: f32(0) };
  const b = { mean: f32(1), logStd: f32(LN2) };
  assert.ok(Math.abs(gaussianKl(a, b, 1)[0] - (LN2 - 0.25)) < 1e-7);
  assert.ok(Math.abs(gaussianKl(b, a, 1)[0] - (2 - LN2)) < 1e-7);
  // two dimensions: the sum of the two one-dimensional KLs; two states: one value each
  const two = gaussianKl({ mean: f32(0, 1, 0, 0), logStd: f32(0, LN2, 0, 0) }, { mean: f32(1, 0, 0, 0), logStd: f32(LN2, 0, 0, 0) }, 2);
  assert.ok(Math.abs(two[0] - (LN2 - 0.25 + 2 - LN2)) < 1e-7);
  assert.equal(two[1], 0);
  // equal means, σ_p = σ_q / 2: ln 2 + 1/8 − 1/2
  assert.ok(Math.abs(gaussianKl({ mean: f32(3), logStd: f32(-LN2) }, { mean: f32(3), logStd: f32(0) }, 1)[0] - (LN2 - 0.375)) < 1e-7);
  assert.throws(() => gaussianKl(a, { mean: f32(0, 0), logStd: f32(0, 0) }, 1), ConfigError);
});

test("the estimator is registered, and bad settings name the setting", () => {
  assert.ok(estimatorNames().includes("policy-change"));
  assert.deepEqual(makeEstimator("policy-change").settings, { states: 100, stride: 10 });
  assert.throws(() => makeEstimator("policy-change", { stride: 1.5 }), /policy-change setting stride must be an integer >= 1, got 1\.5/);
  assert.throws(() => makeEstimator("policy-change", { horizon: 5 }), /unknown policy-change setting "horizon"; known: states, stride/);
  assert.throws(() => makeEstimator("policy-chnage"), /unknown estimator "policy-chnage"; known: .*policy-change/);
});

function agent(optimizer: "direct" | "iterative", seed: number): SacAgent {
  // fan-in-uniform start: under the Xavier start every fresh policy head is zero, so two seeds would act alike
  const config = { ...defaultSacConfig("Pendulum-v1", optimizer, "smoke"), ...FIDELITY_OPTIONS_BEFORE_PRESETS, policyHiddenSizes: [16, 16], samples: 2, iterations: { train: 2, act: 2, eval: 2 } };
  return SacAgent.create(config, { observationSize: 3, actionSize: 1 }, new Rng(seed));
}

const context = (a: SacAgent, step: number, runDir: string | null = null): AnalysisContext => ({ agent: a, env: "Pendulum-v1", step, seed: 4, runDir });

test("KL is 0 for an unchanged policy and the mean closed-form KL to the previous analysed step otherwise", { timeout: 60_000 }, async () => {
  await initBackend();
  const first = agent("direct", 1), second = agent("direct", 2);
  try {
    const estimator = makeEstimator("policy-change", { states: 12, stride: 4 });
    const [r10] = await estimator.run(context(first, 10));
    assert.deepEqual(r10, { estimator: "policy-change", step: 10, settings: { states: 12, stride: 4 }, previous_step: null, kl_mean: null, kl_std: null, kl_max: null });
    const [r20] = await estimator.run(context(first, 20));
    assert.equal(r20.previous_step, 10);
    assert.equal(r20.kl_mean, 0);
    assert.equal(r20.kl_max, 0);
    const [r30] = await estimator.run(context(second, 30));
    assert.equal(r30.previous_step, 20);
    // by hand: the direct policies' λ on the same fixed states, KL(new || old) per state, averaged
    const { observations } = await randomPolicyStates("Pendulum-v1", deriveSeed(4, 0, "policy-change states"), 12, 4);
    const kl = gaussianKl(second.actingLambda(observations, 12, new Rng(0)), first.actingLambda(observations, 12, new Rng(0)), 1);
    const mean = kl.reduce((s, v) => s + v, 0) / kl.length;
    assert.ok(mean > 0);
    assert.ok(Math.abs((r30.kl_mean as number) - mean) < 1e-12, `${r30.kl_mean} vs ${mean}`);
    assert.equal(r30.kl_max, Math.max(...kl));
  } finally {
    first.dispose();
    second.dispose();
  }
});

test("the previous policy is kept in the run folder; the estimator's Rng is its own", { timeout: 60_000 }, async () => {
  await initBackend();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-pc-"));
  const it = agent("iterative", 3);
  try {
    const rngBefore = (await it.getState()).rng;
    const [a] = await makeEstimator("policy-change", { states: 8, stride: 3 }).run(context(it, 100, runDir));
    assert.equal(a.previous_step, null);
    // a new estimator object (a resumed or later analysis) finds step 100's policy on disk
    const [b] = await makeEstimator("policy-change", { states: 8, stride: 3 }).run(context(it, 200, runDir));
    assert.equal(b.previous_step, 100);
    // the iterative policy's λ depends on J's samples, drawn from the estimator's seed for each step:
    // the same agent at another step is a slightly different draw, never the agent's own stream
    assert.ok((b.kl_mean as number) >= 0);
    assert.deepEqual((await it.getState()).rng, rngBefore);
    // the same step again gives the same row
    const again = await makeEstimator("policy-change", { states: 8, stride: 3 }).run(context(it, 200, runDir));
    assert.deepEqual(again, [b]);
    assert.ok(fs.existsSync(path.join(runDir, "analysis-inputs", "policy-change", "states8-stride3", "lambda", "step-000000100")));
  } finally {
    it.dispose();
  }
});
