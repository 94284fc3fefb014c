/**
 * The whole SAC update with model-based values on the fused path (lib/agents/sac/fused-update.ts with
 * lib/agents/model-based/fused/) against the tfjs path, from the same seed on the same batches: the same metrics
 * in the same order over several updates, the same weights (Q-networks, policy, model, rollout policy) after the
 * first, and the same acting; for direct and iterative optimizers, model-based and model-free targets, and the
 * authors' code's policy options. Skipped where the addon is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { useBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ReplayBuffer, SacAgent, type AgentSnapshot, type SacConfig } from "../../lib/agents";
import { FIDELITY_OPTIONS_BEFORE_PRESETS } from "../../lib/agents/sac/config";
import { defaultSacConfig } from "../../lib/presets";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { nativeForTests } from "../backend/native-available";
import { relativeError } from "../backend/compare";

const { skip } = nativeForTests();
const [O, A, B, UPDATES] = [5, 3, 32, 6];

type Options = Partial<Pick<SacConfig, "pessimismStd" | "logStdBounds" | "networkInit" | "normalizeStateInput">>;
const AUTHORS_CODE: Options = { pessimismStd: "unbiased", logStdBounds: "soft-clamp", networkInit: "xavier", normalizeStateInput: false };

function config(optimizer: "direct" | "iterative", valueTargets: boolean, options: Options): SacConfig {
  const base = defaultSacConfig("HalfCheetah-v2", optimizer, "smoke");
  return {
    ...base,
    ...FIDELITY_OPTIONS_BEFORE_PRESETS,
    batchSize: B,
    policyHiddenSizes: [32, 32],
    samples: 2,
    iterations: { train: 3, act: 2, eval: 2 },
    learningRate: 3e-3,
    valueEstimate: "model-based",
    modelBased: { ...base.modelBased, horizon: 2, hiddenSizes: [32, 32], pretrainUpdates: 0, valueTargets },
    ...options,
  };
}

async function run(optimizer: "direct" | "iterative", valueTargets: boolean, options: Options, fused: boolean): Promise<{ metrics: Record<string, number>[]; first: AgentSnapshot; acts: number[]; agent: SacAgent }> {
  const data = new Rng(0);
  const buffer = new ReplayBuffer(200, O, A);
  for (let i = 0; i < 200; i++) buffer.add(data.fillNormal(new Float32Array(O)), data.fillUniform(new Float32Array(A), -1, 1), data.normal(), data.fillNormal(new Float32Array(O)), data.random() < 0.2);
  setFusedSacUpdates(fused);
  try {
    const agent = SacAgent.create(config(optimizer, valueTargets, options), { observationSize: O, actionSize: A }, new Rng(5));
    assert.equal(agent.updatePath().path, fused ? "fused" : "tfjs", agent.updatePath().why);
    const rng = new Rng(9);
    const metrics: Record<string, number>[] = [];
    let first: AgentSnapshot | null = null;
    for (let i = 0; i < UPDATES; i++) {
      metrics.push(agent.update(buffer.sample(B, rng)));
      first ??= await agent.getState();
    }
    const obs = new Rng(11);
    const acts = [...agent.act(obs.fillNormal(new Float32Array(O)), "explore"), ...agent.actBatch(obs.fillNormal(new Float32Array(3 * O)), 3, "explore")];
    return { metrics, first: first as AgentSnapshot, acts, agent };
  } finally {
    setFusedSacUpdates(true);
  }
}

/** Relative difference of the paths' metrics allowed after the first update (float32 roundings compound; see fused-update.test.ts). */
const SEQUENCE_TOLERANCE = 1e-3;

const CASES: ["direct" | "iterative", boolean, Options][] = [["direct", true, {}], ["iterative", true, {}], ["iterative", false, {}], ["iterative", true, AUTHORS_CODE], ["direct", false, AUTHORS_CODE]];
for (const [optimizer, valueTargets, options] of CASES) {
  const named = `${optimizer}, ${valueTargets ? "model-based" : "model-free"} targets${options === AUTHORS_CODE ? ", the authors' code's options" : ""}`;
  test(`the fused model-based update (${named}) gives the tfjs path's metrics, weights and actions`, { skip }, async () => {
    await useBackend("wasm-native");
    const fused = await run(optimizer, valueTargets, options, true);
    const stock = await run(optimizer, valueTargets, options, false);
    for (let u = 0; u < UPDATES; u++) {
      assert.deepEqual(Object.keys(fused.metrics[u]), Object.keys(stock.metrics[u]), `update ${u + 1}: same metrics in the same order`);
      for (const [k, want] of Object.entries(stock.metrics[u])) {
        const got = fused.metrics[u][k];
        const tolerance = u === 0 ? 1e-4 : k.startsWith("train/grad_norm") ? 5 * SEQUENCE_TOLERANCE : SEQUENCE_TOLERANCE;
        assert.ok(Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want)), `update ${u + 1}, ${k}: fused ${got}, tfjs ${want}`);
      }
    }
    // Adam's first step moves a weight whose gradient is within rounding of 0 by up to lr either way: a few may differ.
    const [a, b] = [fused.first.networks as Record<string, Record<string, { values: Float32Array }> | undefined>, stock.first.networks as Record<string, Record<string, { values: Float32Array }> | undefined>];
    for (const net of ["q1", "q2", "policy", "model", ...(optimizer === "iterative" ? ["rollout"] : [])]) {
      let far = 0;
      let count = 0;
      for (const [name, want] of Object.entries(b[net] ?? {})) {
        const got = (a[net] ?? {})[name].values;
        want.values.forEach((v, i) => {
          count++;
          if (Math.abs(got[i] - v) > 1e-5) far++;
        });
      }
      assert.ok(count > 0 && far <= Math.max(2, count * 1e-3), `${net}: ${far} of ${count} weights differ by more than 1e-5`);
    }
    assert.ok(relativeError(fused.acts, stock.acts) <= 1e-3, `actions: relative error ${relativeError(fused.acts, stock.acts)}`);
    fused.agent.dispose();
    stock.agent.dispose();
  });
}
