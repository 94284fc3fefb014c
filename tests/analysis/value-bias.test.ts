import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ConfigError, CorruptFileError, UnknownNameError } from "../../lib/core/errors";
import { SacAgent } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { makeEnv } from "../../lib/envs/registry";
import { Episode, readAction } from "../../lib/envs/episode";
import type { Env, EnvState, ResetResult, StepResult } from "../../lib/envs/types";
import { klToUniformPriorSamples } from "../../lib/policy/tanh-gaussian";
import { makeEstimator, estimatorNames } from "../../lib/analysis/registry";
import { rolloutSoftReturns, type PolicySampler } from "../../lib/analysis/soft-return-rollouts";
import { rolloutWorkerCount, stopRolloutWorkers } from "../../lib/analysis/rollouts-parallel";
import { AgentPolicySampler, sampleTanhGaussianRow } from "../../lib/analysis/rollouts-policy";
import { drawPairs, loadOrDrawPairs, pairsFile, type StateActionPair } from "../../lib/analysis/value-bias-pairs";
import { agentQAtPairs, resolveValueBiasSettings, valueBiasFromParts } from "../../lib/analysis/value-bias";

/**
 * A task whose soft return is a finite sum: a point at x moves +1 per step whatever the action; the reward is
 * x + a₀ (x before the step); the episode terminates once x reaches END, and the time limit truncates it.
 */
class Walk implements Env {
  static readonly END = 30;
  readonly name = "Walk-test";
  readonly observationSize = 1;
  readonly actionSize = 1;
  readonly actionLow = Float64Array.of(-1);
  readonly actionHigh = Float64Array.of(1);
  readonly dt = 1;
  private x = 0;
  private readonly action = new Float64Array(1);
  private readonly episode: Episode;
  constructor(readonly timeLimit: number) {
    this.episode = new Episode(this.name, timeLimit, 0);
  }
  reset(): ResetResult {
    this.episode.begin(undefined);
    this.x = 0;
    return { observation: Float64Array.of(this.x), info: {} };
  }
  step(action: ArrayLike<number>): StepResult {
    this.episode.assertRunning();
    const a = readAction(this.name, action, this.action);
    const reward = this.x + a[0];
    this.x += 1;
    const terminated = this.x >= Walk.END;
    const truncated = this.episode.finish(terminated);
    return { observation: Float64Array.of(this.x), reward, terminated, truncated, info: { rewardTerms: { x: reward } } };
  }
  getState(): EnvState {
    return this.episode.snapshot([this.x], []);
  }
  setState(state: EnvState): void {
    this.episode.restore(state, 1, 0);
    this.x = state.physics[0];
  }
  scene(): never {
    throw new Error("no scene");
  }
  dispose(): void {
    this.episode.disposed = true;
  }
}

/** A deterministic policy: always `action`, reporting log π/p = `logRatio` (a stand-in with a known KL term). */
const fixedPolicy = (action: number, logRatio: number): PolicySampler => ({
  observationSize: 1,
  actionSize: 1,
  sample(_obs, count, _rngs, actions, logRatios) {
    for (let k = 0; k < count; k++) {
      actions[k] = action;
      logRatios[k] = logRatio;
    }
  },
});

/** The soft return from x0 with `elapsed` steps already taken, written out term by term. */
function walkSoftValue(x0: number, a0: number, elapsed: number, o: { gamma: number; alpha: number; horizon: number; timeLimit: number; action: number; logRatio: number }): number {
  const steps = Math.min(Walk.END - x0, o.timeLimit - elapsed, o.horizon);
  let q = x0 + a0;
  for (let t = 1; t < steps; t++) q += o.gamma ** t * (x0 + t + o.action - o.alpha * o.logRatio);
  return q;
}

function walkPairs(timeLimit: number, starts: [number, number, number][]): StateActionPair[] {
  return starts.map(([x, elapsed, a]) => ({
    state: { name: "Walk-test", phase: "running", elapsedSteps: elapsed, rng: new Rng(0).getState(), physics: [x], memo: [] },
    observation: [x],
    action: [a],
  }));
}

test("value bias is exactly zero for the true soft value, and +c for Q shifted by c (termination, time limit, horizon cap)", async () => {
  const timeLimit = 25;
  const policy = { action: 0.5, logRatio: 0.3 };
  // (x, steps already taken, action): ends by termination (x=20: 10 steps), by the time limit (x=2, 20 taken: 5 steps), and at x=0 by whichever comes first
  const pairs = walkPairs(timeLimit, [[20, 0, -0.25], [2, 20, 1], [0, 0, 0.75], [29, 3, -1]]);
  for (const horizon of [1000, 7]) {
    const o = { gamma: 0.9, alpha: 0.2, horizon, timeLimit, ...policy };
    const truth = pairs.map((p) => walkSoftValue(p.state.physics[0], p.action[0], p.state.elapsedSteps, o));
    const envs = Array.from({ length: 2 * 3 }, () => new Walk(timeLimit));
    const { summaries, returns } = await valueBiasFromParts({
      pairs,
      envs,
      samplerFor: () => fixedPolicy(policy.action, policy.logRatio),
      q: () => ({ truth, shifted: truth.map((v) => v + 1.5) }),
      settings: { rollouts: 3, gamma: o.gamma, horizon, alpha: o.alpha, pairsPerBatch: 2 },
      seed: 1,
    });
    returns.forEach((r, i) => assert.ok(Math.abs(r.mean - truth[i]) < 1e-9, `horizon ${horizon}, pair ${i}: ${r.mean} vs ${truth[i]}`));
    const [exact, shifted] = summaries;
    assert.equal(exact.q, "truth");
    assert.ok(Math.abs(exact.biasMean) < 1e-9 && exact.biasStd < 1e-9, JSON.stringify(exact));
    assert.ok(Math.abs(shifted.biasMean - 1.5) < 1e-9 && shifted.biasStd < 1e-9, JSON.stringify(shifted));
    if (horizon === 1000) {
      assert.deepEqual(returns.map((r) => [r.meanSteps, r.terminated, r.truncated, r.horizonCapped]), [[10, 3, 0, 0], [5, 0, 3, 0], [25, 0, 3, 0], [1, 3, 0, 0]]);
    } else {
      assert.deepEqual(returns.map((r) => r.meanSteps), [7, 5, 7, 1]);
      assert.equal(returns[0].horizonCapped, 3);
    }
  }
});

test("the MC estimate averages a stochastic policy's returns: each rollout draws from its own stream", async () => {
  // uniform on [c − w, c + w]: log π/p = −log w exactly; the reward's mean is known, each rollout's is random
  const c = 0.2;
  const w = 0.5;
  const uniform: PolicySampler = {
    observationSize: 1,
    actionSize: 1,
    sample(_obs, count, rngs, actions, logRatios) {
      for (let k = 0; k < count; k++) {
        actions[k] = rngs[k].uniform(c - w, c + w);
        logRatios[k] = -Math.log(w);
      }
    },
  };
  const o = { gamma: 0.95, alpha: 0.1, horizon: 1000, timeLimit: 1000, action: c, logRatio: -Math.log(w) };
  const pairs = walkPairs(1000, [[10, 0, 0]]);
  const envs = Array.from({ length: 400 }, () => new Walk(1000));
  const run = (seed: number) =>
    valueBiasFromParts({ pairs, envs, samplerFor: () => uniform, q: () => ({}), settings: { rollouts: 400, gamma: o.gamma, horizon: o.horizon, alpha: o.alpha, pairsPerBatch: 1 }, seed });
  const { returns } = await run(3);
  const truth = walkSoftValue(10, 0, 0, o);
  const se = returns[0].std / Math.sqrt(400);
  assert.ok(returns[0].std > 0.1, "the rollouts differ");
  assert.ok(Math.abs(returns[0].mean - truth) < 4 * se, `${returns[0].mean} vs ${truth} ± ${se}`);
  assert.equal((await run(3)).returns[0].mean, returns[0].mean, "seeded");
  assert.notEqual((await run(4)).returns[0].mean, returns[0].mean);
});

test("log π/p of a tanh-Gaussian draw matches the tensor implementation", () => {
  const mean = [0.3, -1.2, 2.5];
  const logStd = [-0.5, 0.4, -3];
  const out = new Float32Array(3);
  const lr = sampleTanhGaussianRow(mean, logStd, 0, 3, new Rng(11), out, 0);
  const eps = [0, 1, 2].map(((r) => () => r.normal())(new Rng(11)));
  const u = mean.map((m, i) => m + Math.exp(logStd[i]) * eps[i]);
  out.forEach((a, i) => assert.ok(Math.abs(a - Math.tanh(u[i])) < 1e-6));
  const expected = tf.tidy(() => {
    const lambda = { mean: tf.tensor2d([mean]), logStd: tf.tensor2d([logStd]) };
    return klToUniformPriorSamples(lambda, tf.tensor3d([[u]])).dataSync()[0];
  });
  assert.ok(Math.abs(lr - expected) < 1e-4 * Math.max(1, Math.abs(expected)), `${lr} vs ${expected}`);
});

async function hopperAgent(seed = 0): Promise<SacAgent> {
  await initBackend();
  return SacAgent.create(defaultSacConfig("Hopper-v2", "direct", "smoke"), { observationSize: 11, actionSize: 3 }, new Rng(seed));
}

test("rollouts from a restored state equal rollouts continuing the episode, with the same seeds", async () => {
  const agent = await hopperAgent();
  const fresh = await makeEnv("Hopper-v2");
  const restored = await makeEnv("Hopper-v2");
  try {
    fresh.reset({ seed: 5 });
    const rng = new Rng(2);
    for (let t = 0; t < 4; t++) fresh.step(rng.fillUniform(new Float64Array(3), -1, 1));
    restored.reset({ seed: 99 }); // somewhere else entirely
    restored.setState(fresh.getState());
    const a0 = [0.3, -0.7, 0.1];
    const settings = { gamma: 0.99, alpha: agent.alpha, horizon: 60 };
    const roll = (env: Env) => rolloutSoftReturns([env], [a0], new AgentPolicySampler(agent, "collect", new Rng(8)), [new Rng(21)], settings);
    const a = await roll(restored);
    const b = await roll(fresh);
    assert.deepEqual(Array.from(a.returns), Array.from(b.returns));
    assert.deepEqual(Array.from(a.steps), Array.from(b.steps));
    assert.ok(a.steps[0] > 1, "the policy acted after the first action");
  } finally {
    fresh.dispose();
    restored.dispose();
    agent.dispose();
  }
});

test("the value-bias estimator: rows per Q estimate, pairs drawn once and reused, the agent untouched, any process count", async () => {
  assert.ok(estimatorNames().includes("value-bias"));
  const agent = await hopperAgent(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-vb-"));
  try {
    const before = await agent.getState();
    const small = { pairs: 3, rollouts: 4, horizon: 30, pairsPerBatch: 2 };
    const est = makeEstimator("value-bias", { ...small, workers: 1 });
    const context = { agent, env: "Hopper-v2", step: 500, seed: 7, runDir: dir };
    const rows = await est.run(context);
    assert.deepEqual(rows.map((r) => r.q), ["pessimistic", "q1", "q2"]);
    assert.deepEqual(rows[0].settings, { pairs: 3, rollouts: 4, gamma: 0.99, horizon: 30, pairsPerBatch: 2, policyBeta: "collect" });
    const file = pairsFile(dir, 3);
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { pairs: StateActionPair[] };
    assert.deepEqual(stored.pairs, (await drawPairs("Hopper-v2", 7, 3)).pairs, "the file holds the seeded draw");
    const q = agentQAtPairs(agent, stored.pairs.map((p) => p.observation), stored.pairs.map((p) => p.action));
    for (const r of rows) {
      assert.equal(r.estimator, "value-bias");
      assert.equal(r.step, 500);
      assert.ok(Math.abs((r.qMean as number) - Array.from(q[r.q as string]).reduce((s, v) => s + v, 0) / 3) < 1e-9);
      assert.ok(Math.abs((r.biasMean as number) - ((r.qMean as number) - (r.mcMean as number))) < 1e-9);
      assert.equal(r.alpha, agent.alpha);
    }
    // min(Q1, Q2) at β = 1: the pessimistic bias is the smaller one's
    assert.ok((rows[0].qMean as number) <= Math.max(rows[1].qMean as number, rows[2].qMean as number));

    // the pairs are reused: the file is not rewritten, and a rerun gives the same rows; with 2 processes too
    const stamp = fs.statSync(file).mtimeMs;
    assert.deepEqual(await est.run(context), rows);
    assert.equal(fs.statSync(file).mtimeMs, stamp);
    const two = makeEstimator("value-bias", { ...small, workers: 2 });
    assert.deepEqual(await two.run(context), rows);
    assert.equal(rolloutWorkerCount(), 1, "the child is kept for the next evaluation");
    assert.deepEqual(await two.run(context), rows);
    assert.equal(rolloutWorkerCount(), 1, "and reused");
    stopRolloutWorkers();
    assert.equal(rolloutWorkerCount(), 0);
    // a later step samples other rollouts from the same pairs
    const later = await est.run({ ...context, step: 1000 });
    assert.notEqual(later[0].mcMean, rows[0].mcMean);

    // nothing of the agent moved: weights, α and its Rng (the next training step is unchanged)
    const after = await agent.getState();
    assert.deepEqual(after.rng, before.rng);
    assert.deepEqual(after.networks, before.networks);
    assert.equal(after.logAlpha, before.logAlpha);

    // without a run folder the pairs are kept in memory: the same object each call
    assert.equal(await loadOrDrawPairs("Hopper-v2", 7, 3, null), await loadOrDrawPairs("Hopper-v2", 7, 3, null));

    // a corrupt or foreign pairs file is an error naming it
    fs.writeFileSync(file, "{ not json");
    await assert.rejects(est.run(context), (e: Error) => e instanceof CorruptFileError && e.message.includes(file));
    fs.writeFileSync(file, JSON.stringify({ ...stored, version: 1, env: "Hopper-v2", seed: 8 }));
    await assert.rejects(est.run(context), (e: Error) => e instanceof CorruptFileError && /seed 8/.test(e.message));
  } finally {
    stopRolloutWorkers();
    agent.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bad value-bias settings fail with a ConfigError naming them", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ pair: 10 }, /unknown setting "pair"/],
    [{ pairs: 0 }, /pairs must be an integer >= 1/],
    [{ rollouts: 2.5 }, /rollouts must be an integer >= 1/],
    [{ gamma: 1.5 }, /gamma must be a number in \[0, 1\]/],
    [{ horizon: -1 }, /horizon must be an integer >= 1/],
    [{ pairsPerBatch: "all" }, /pairsPerBatch/],
    [{ policyBeta: "acting" }, /policyBeta must be "collect" or "train"/],
    [{ workers: 0 }, /workers must be an integer >= 1/],
  ];
  for (const [settings, message] of bad) assert.throws(() => makeEstimator("value-bias", settings), (e: Error) => e instanceof ConfigError && message.test(e.message), JSON.stringify(settings));
  assert.throws(() => makeEstimator("value-bias-typo"), UnknownNameError);
  assert.deepEqual(resolveValueBiasSettings({}).settings, { pairs: 100, rollouts: 100, gamma: 0.99, horizon: 1000, pairsPerBatch: 5, policyBeta: "collect" });
});
