import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ConfigError, NonFiniteError } from "../../lib/core/errors";
import { defaultSacConfig } from "../../lib/presets";
import { ReplayBuffer, SacAgent, buildPolicyOptimizer, validateSacConfig, type AgentSnapshot, type PolicyOptimizerFactory, type SacConfig } from "../../lib/agents";
import type { PolicyOptimizer } from "../../lib/policy";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";

test("default configs carry the paper's values (Tables 5-6, A.4)", () => {
  const d = defaultSacConfig("HalfCheetah-v2", "direct", "paper");
  assert.equal(d.gamma, 0.99);
  assert.equal(d.tau, 5e-3);
  assert.equal(d.learningRate, 3e-4);
  assert.equal(d.batchSize, 256);
  assert.equal(d.qArchitecture, "B");
  assert.equal(d.betaTrain, 1);
  assert.deepEqual(d.policyHiddenSizes, [256, 256]);
  const i = defaultSacConfig("HalfCheetah-v2", "iterative", "paper");
  assert.equal(i.qArchitecture, "A");
  assert.equal(i.betaTrain, 2.5);
  assert.equal(i.betaCollect, 1);
  assert.deepEqual(i.iterations, { train: 5, act: 5, eval: 5 });
  assert.equal(defaultSacConfig("Hopper-v2", "iterative", "paper").betaTrain, 1.5);
  assert.equal(defaultSacConfig("Walker2d-v2", "iterative", "paper").qArchitecture, "B");
  assert.equal(defaultSacConfig("Pendulum-v1", "direct", "paper").qArchitecture, "A");
  // the paper's input normalisation and β on its tasks; the small tasks get what works where the paper says nothing
  assert.equal(i.inputNormalization, "layer");
  const p = defaultSacConfig("Pendulum-v1", "iterative", "paper");
  assert.equal(p.inputNormalization, "layer+scale");
  assert.equal(p.betaTrain, 1);
  // 10 samples for J at paper scale (the authors' code), 1 at the smaller scales
  assert.equal(i.samples, 10);
  assert.equal(defaultSacConfig("HalfCheetah-v2", "iterative", "quick").samples, 1);
});

test("bad configs fail with a ConfigError naming the field", () => {
  const base = defaultSacConfig("Hopper-v2", "direct", "smoke");
  const bad: [Partial<SacConfig>, RegExp][] = [
    [{ gamma: 1.5 }, /SacConfig\.gamma/],
    [{ tau: 0 }, /SacConfig\.tau/],
    [{ batchSize: 0 }, /SacConfig\.batchSize/],
    [{ optimizer: "newton" as never }, /SacConfig\.optimizer/],
    [{ qArchitecture: "C" as never }, /SacConfig\.qArchitecture/],
    [{ samples: 0 }, /SacConfig\.samples/],
    [{ iterations: { train: 0, act: 5, eval: 5 } }, /SacConfig\.iterations\.train/],
    [{ initialStd: -1 }, /SacConfig\.initialStd/],
    [{ inputNormalization: "batch" as never }, /SacConfig\.inputNormalization/],
  ];
  for (const [patch, re] of bad) assert.throws(() => validateSacConfig({ ...base, ...patch }), (e: Error) => e instanceof ConfigError && re.test(e.message), JSON.stringify(patch));
});

/** Small, fast settings for learner tests (the algorithm, not the paper's shapes). */
function tinyConfig(optimizer: "direct" | "iterative"): SacConfig {
  return {
    ...defaultSacConfig("Bandit", optimizer, "smoke"),
    batchSize: 64,
    policyHiddenSizes: [32, 32],
    learningRate: 3e-3,
    samples: optimizer === "direct" ? 1 : 2,
    iterations: { train: 3, act: 3, eval: 3 },
    betaTrain: 1,
  };
}

/**
 * A contextual bandit: context c ∈ {−1, +1} (observation [c, 1]), reward −4(a − 0.6c)², every step terminal.
 * Q must be learned from data, and the policy must find the context's best action. Random actions score ≈ −1.8.
 */
function banditReturn(optimizer: "direct" | "iterative", updates: number): number {
  const rng = new Rng(42);
  const agent = SacAgent.create(tinyConfig(optimizer), { observationSize: 2, actionSize: 1 }, rng.fork());
  const buffer = new ReplayBuffer(10_000, 2, 1);
  const reward = (c: number, a: number): number => -4 * (a - 0.6 * c) ** 2;
  for (let step = 0; step < 200 + updates; step++) {
    const c = rng.random() < 0.5 ? -1 : 1;
    const a = step < 200 ? agent.randomAction() : agent.act([c, 1], "explore");
    buffer.add([c, 1], a, reward(c, a[0]), [c, 1], true);
    if (step >= 200) agent.update(buffer.sample(64, rng));
  }
  const score = (reward(-1, agent.act([-1, 1], "eval")[0]) + reward(1, agent.act([1, 1], "eval")[0])) / 2;
  agent.dispose();
  return score;
}

for (const optimizer of ["direct", "iterative"] as const) {
  test(`SAC (${optimizer}) learns Q and finds the best action of a contextual bandit`, async () => {
    await initBackend();
    const score = banditReturn(optimizer, 300);
    assert.ok(score > -0.1, `${optimizer}: deterministic reward ${score} (random ≈ −1.8, best 0)`);
  });
}

async function fillAndTrain(agent: SacAgent, buffer: ReplayBuffer, rng: Rng, updates: number): Promise<Record<string, number>[]> {
  const out: Record<string, number>[] = [];
  for (let i = 0; i < updates; i++) out.push(agent.update(buffer.sample(32, rng)));
  return out;
}

for (const optimizer of ["direct", "iterative"] as const) {
  test(`SAC (${optimizer}) resumes exactly from getState/setState and leaks no tensors`, async () => {
    await initBackend();
    const config = { ...tinyConfig(optimizer), batchSize: 32 };
    const spec = { observationSize: 3, actionSize: 2 };
    const data = new Rng(7);
    const buffer = new ReplayBuffer(500, 3, 2);
    for (let i = 0; i < 200; i++) {
      const o = data.fillNormal(new Float32Array(3));
      buffer.add(o, data.fillUniform(new Float32Array(2), -1, 1), data.normal(), data.fillNormal(new Float32Array(3)), data.random() < 0.1);
    }
    const agent = SacAgent.create(config, spec, new Rng(1));
    await fillAndTrain(agent, buffer, new Rng(2), 3);
    const snapshot = await agent.getState();
    const before = tf.memory().numTensors;
    const continued = await fillAndTrain(agent, buffer, new Rng(3), 3);
    continued.push({ act: agent.act([0.1, 0.2, 0.3], "explore")[0] });
    assert.equal(tf.memory().numTensors, before, "updates leaked tensors");
    const other = SacAgent.create(config, spec, new Rng(99));
    // Through JSON text and back (typed arrays as number lists, revived as Float32Arrays): a new object, equal to the snapshot.
    const text = JSON.stringify(snapshot, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    const restored = JSON.parse(text, (k, v: unknown) => (k === "values" && Array.isArray(v) ? Float32Array.from(v as number[]) : v)) as AgentSnapshot;
    assert.notEqual(restored, snapshot);
    assert.deepEqual(restored, snapshot, "the JSON round trip keeps every value");
    await other.setState(restored);
    const resumed = await fillAndTrain(other, buffer, new Rng(3), 3);
    resumed.push({ act: other.act([0.1, 0.2, 0.3], "explore")[0] });
    assert.deepEqual(resumed, continued);
    assert.equal(other.updates, 6);
    if (optimizer === "iterative") assert.ok("train/j_improvement_iter3" in continued[0], "per-iteration improvement is logged");
    for (const key of ["train/q1_loss", "train/q_target", "train/alpha", "train/alpha_loss", "train/entropy", "train/kl_prior", "train/policy_mean_abs", "train/policy_scale", "train/policy_loss", "train/grad_norm_q", "train/grad_norm_policy"]) {
      assert.ok(Number.isFinite(continued[0][key]), `metric ${key}`);
    }
    agent.dispose();
    other.dispose();
  });
}

test("a non-finite loss raises NonFiniteError", async () => {
  await initBackend();
  const agent = SacAgent.create(tinyConfig("direct"), { observationSize: 2, actionSize: 1 }, new Rng(0));
  const buffer = new ReplayBuffer(10, 2, 1);
  buffer.add([0, 1], [0], 0, [0, 1], false);
  const batch = buffer.sample(4, new Rng(0));
  batch.rewards[0] = NaN;
  assert.throws(() => agent.update(batch), (e: Error) => e instanceof NonFiniteError && /Q loss/.test(e.message));
  assert.throws(() => agent.act([1], "eval"), /observation must have 2/);
  agent.dispose();
});

test("SacAgent.create takes its policy optimizer from the factory it is given (default: the config's)", async () => {
  await initBackend();
  const spec = { observationSize: 2, actionSize: 1 };
  const made: PolicyOptimizer[] = [];
  const factory: PolicyOptimizerFactory = (config, s, rng) => {
    const o = buildPolicyOptimizer({ ...config, optimizer: "iterative" }, s, rng);
    made.push(o);
    return o;
  };
  const agent = SacAgent.create(tinyConfig("direct"), spec, new Rng(0), factory);
  assert.equal(made.length, 1);
  assert.equal(agent.optimizer, made[0], "the agent uses what the factory made");
  const buffer = new ReplayBuffer(10, 2, 1);
  for (let i = 0; i < 4; i++) buffer.add([i, 1], [0.1 * i], 1, [i, 1], false);
  assert.ok("train/j_improvement_iter1" in agent.update(buffer.sample(4, new Rng(1))), "an iterative optimizer's update");
  agent.dispose();
  // the default factory builds the optimizer the config names, from the same random stream
  const [a, b] = [SacAgent.create(tinyConfig("direct"), spec, new Rng(0)), SacAgent.create(tinyConfig("direct"), spec, new Rng(0), buildPolicyOptimizer)];
  assert.equal(a.optimizer.kind, "direct");
  assert.deepEqual(a.optimizer.params?.toData(), b.optimizer.params?.toData());
  a.dispose();
  b.dispose();
});

test("actingLambda is the λ the agent acts with; with its own noise Rng it leaves the agent's streams alone, on both paths", async () => {
  await initBackend();
  const config = { ...defaultSacConfig("Hopper-v2", "iterative", "smoke"), samples: 2 };
  const spec = { observationSize: 11, actionSize: 3 };
  const obsRng = new Rng(4);
  const observations = Float32Array.from({ length: 5 * 11 }, () => obsRng.normal());
  const lambdas: { mean: Float32Array; logStd: Float32Array }[] = [];
  for (const fused of [true, false]) {
    setFusedSacUpdates(fused);
    try {
      const agent = SacAgent.create(config, spec, new Rng(9));
      const before = (await agent.getState()).rng;
      lambdas.push(agent.actingLambda(observations, 5, new Rng(77)));
      assert.deepEqual((await agent.getState()).rng, before, "the agent's Rng did not move");
      // the same λ as acting: the deterministic action is tanh(μ) of it, when J's noise is the agent's own
      const twin = SacAgent.create(config, spec, new Rng(9));
      const own = agent.actingLambda(observations, 5);
      const acted = twin.actBatch(observations, 5, "eval");
      acted.forEach((a, i) => assert.ok(Math.abs(a - Math.tanh(own.mean[i])) < 1e-6, `action ${i}: ${a} vs tanh μ ${Math.tanh(own.mean[i])}`));
      assert.throws(() => agent.actingLambda(observations, 4), /actingLambda: expected 4 observations of 11 values \(44\), got 55/);
      agent.dispose();
      twin.dispose();
    } finally {
      setFusedSacUpdates(true);
    }
  }
  // the fused and the tfjs acting runs agree from the same noise
  lambdas[0].mean.forEach((m, i) => assert.ok(Math.abs(m - lambdas[1].mean[i]) < 1e-4, `μ ${i}: ${m} vs ${lambdas[1].mean[i]}`));
  lambdas[0].logStd.forEach((l, i) => assert.ok(Math.abs(l - lambdas[1].logStd[i]) < 1e-4, `log σ ${i}: ${l} vs ${lambdas[1].logStd[i]}`));
});
