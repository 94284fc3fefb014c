/**
 * SAC with model-based values (valueEstimate "model-based"): bad horizon or λ fail naming the field; at h = 0 a
 * direct agent's updates are the model-free agent's, value for value; at h = 2 both optimizers update with the
 * model's and the distillation's metrics (on the fused path where the native addon is); the model is pre-trained once; getState/setState resume
 * exactly with the model, the rollout policy and their Adam states, and leak no tensors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ConfigError } from "../../lib/core/errors";
import { ReplayBuffer, SacAgent, validateSacConfig, type SacConfig } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { activeAddon } from "../../lib/backend/wasm-kernels";

const SPEC = { observationSize: 3, actionSize: 2 };

function config(optimizer: "direct" | "iterative", modelBased: Partial<SacConfig["modelBased"]> = {}): SacConfig {
  const base = defaultSacConfig("Bandit", optimizer, "smoke");
  return {
    ...base,
    batchSize: 16,
    policyHiddenSizes: [16, 16],
    samples: 2,
    iterations: { train: 2, act: 2, eval: 2 },
    valueEstimate: "model-based",
    modelBased: { ...base.modelBased, hiddenSizes: [16, 16], pretrainUpdates: 3, ...modelBased },
  };
}

function filledBuffer(): ReplayBuffer {
  const data = new Rng(7);
  const buffer = new ReplayBuffer(300, 3, 2);
  for (let i = 0; i < 200; i++) {
    buffer.add(data.fillNormal(new Float32Array(3)), data.fillUniform(new Float32Array(2), -1, 1), data.normal(), data.fillNormal(new Float32Array(3)), data.random() < 0.1);
  }
  return buffer;
}

function updates(agent: SacAgent, buffer: ReplayBuffer, rng: Rng, n: number): Record<string, number>[] {
  return Array.from({ length: n }, () => agent.update(buffer.sample(16, rng)));
}

test("bad value-estimate settings fail with a ConfigError naming the field", () => {
  const base = config("iterative");
  const bad: [Partial<SacConfig>, RegExp][] = [
    [{ valueEstimate: "model" as never }, /SacConfig\.valueEstimate must be "model-free" or "model-based", got "model"/],
    [{ modelBased: { ...base.modelBased, horizon: -1 } }, /SacConfig\.modelBased\.horizon must be an integer in \[0, 50\].*got -1/],
    [{ modelBased: { ...base.modelBased, horizon: 1.5 } }, /SacConfig\.modelBased\.horizon/],
    [{ modelBased: { ...base.modelBased, horizon: 51 } }, /SacConfig\.modelBased\.horizon/],
    [{ modelBased: { ...base.modelBased, retraceLambda: 1.2 } }, /SacConfig\.modelBased\.retraceLambda must be a number in \[0, 1\], got 1\.2/],
    [{ modelBased: { ...base.modelBased, retraceLambda: NaN } }, /SacConfig\.modelBased\.retraceLambda/],
    [{ modelBased: { ...base.modelBased, pretrainUpdates: -1 } }, /SacConfig\.modelBased\.pretrainUpdates/],
    [{ modelBased: { ...base.modelBased, hiddenSizes: [] } }, /SacConfig\.modelBased\.hiddenSizes/],
    [{ modelBased: undefined as never }, /SacConfig\.modelBased must be/],
  ];
  for (const [patch, re] of bad) assert.throws(() => validateSacConfig({ ...base, ...patch }), (e: Error) => e instanceof ConfigError && re.test(e.message), JSON.stringify(patch));
  const d = defaultSacConfig("HalfCheetah-v2", "iterative", "paper");
  assert.equal(d.valueEstimate, "model-free");
  assert.deepEqual(d.modelBased, { horizon: 2, retraceLambda: 0.9, pretrainUpdates: 1000, hiddenSizes: [256, 256], valueTargets: true }, "Tables 7-8");
});

test("at h = 0 a direct agent's updates are the model-free agent's, value for value", async () => {
  await initBackend();
  setFusedSacUpdates(false); // both on the tfjs path, which the model-based agent runs
  try {
    const buffer = filledBuffer();
    const mb = SacAgent.create(config("direct", { horizon: 0 }), SPEC, new Rng(1));
    const mf = SacAgent.create({ ...config("direct"), valueEstimate: "model-free" }, SPEC, new Rng(1));
    const withoutModel = (rows: Record<string, number>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("train/model_"))));
    const a = updates(mb, buffer, new Rng(2), 3);
    assert.ok(Number.isFinite(a[0]["train/model_state_nll"]), "the model learns alongside");
    assert.deepEqual(withoutModel(a), updates(mf, buffer, new Rng(2), 3));
    assert.deepEqual(Array.from(mb.act([0.1, 0.2, 0.3], "explore")), Array.from(mf.act([0.1, 0.2, 0.3], "explore")));
    mb.dispose();
    mf.dispose();
  } finally {
    setFusedSacUpdates(true);
  }
});

test("Table 8: the Q-networks' targets are model-based; valueTargets: false keeps the model-free target", async () => {
  await initBackend();
  setFusedSacUpdates(false);
  try {
    const buffer = filledBuffer();
    const first = (c: SacConfig): Record<string, number> => {
      const agent = SacAgent.create(c, SPEC, new Rng(1));
      const m = agent.update(buffer.sample(16, new Rng(2)));
      agent.dispose();
      return m;
    };
    const mf = first({ ...config("direct"), valueEstimate: "model-free" });
    const mbModelFreeTargets = first(config("direct", { valueTargets: false }));
    const mb = first(config("direct"));
    for (const key of ["train/q_target", "train/q1_loss", "train/q2_loss"]) assert.equal(mbModelFreeTargets[key], mf[key], key);
    assert.notEqual(mbModelFreeTargets["train/policy_loss"], mf["train/policy_loss"], "the policy still climbs Eq. 13");
    assert.notEqual(mb["train/q_target"], mf["train/q_target"], "model-based targets");
  } finally {
    setFusedSacUpdates(true);
  }
});

for (const optimizer of ["direct", "iterative"] as const) {
  test(`a model-based ${optimizer} agent pre-trains once, updates (on the fused path where the addon is) and resumes exactly`, { timeout: 120_000 }, async () => {
    await initBackend();
    const buffer = filledBuffer();
    const agent = SacAgent.create(config(optimizer), SPEC, new Rng(1));
    assert.equal(agent.updatePath().path, activeAddon() ? "fused" : "tfjs", agent.updatePath().why);
    let sampled = 0;
    const rng = new Rng(2);
    const pre = agent.pretrain(() => (sampled++, buffer.sample(16, rng)));
    assert.equal(sampled, 3, "pretrainUpdates batches");
    assert.ok(pre && Number.isFinite(pre["train/model_pretrain_state_nll"]) && Number.isFinite(pre["train/model_pretrain_reward_nll"]));
    assert.equal(agent.pretrain(() => buffer.sample(16, rng)), null, "only once");
    const first = updates(agent, buffer, rng, 2);
    for (const key of ["train/q1_loss", "train/policy_loss", "train/model_state_nll", "train/model_reward_nll", ...(optimizer === "iterative" ? ["train/rollout_kl", "train/j_improvement_iter2"] : [])]) {
      assert.ok(Number.isFinite(first[1][key]), `metric ${key}`);
    }
    if (optimizer === "direct") assert.ok(!("train/rollout_kl" in first[1]), "a direct agent's rollout policy is its own network");

    const snapshot = await agent.getState();
    assert.ok(snapshot.networks.model && snapshot.optimizers.model && snapshot.modelPretrained === true);
    assert.equal(snapshot.networks.rollout !== undefined, optimizer === "iterative", "the distilled rollout policy is saved; a copy is not");
    const before = tf.memory().numTensors;
    const continued = updates(agent, buffer, new Rng(3), 3);
    continued.push({ act: agent.act([0.1, 0.2, 0.3], "explore")[0] });
    assert.equal(tf.memory().numTensors, before, "updates leaked tensors");
    const other = SacAgent.create(config(optimizer), SPEC, new Rng(99));
    await other.setState(snapshot);
    assert.equal(other.pretrain(() => buffer.sample(16, rng)), null, "a pre-trained model stays pre-trained");
    const resumed = updates(other, buffer, new Rng(3), 3);
    resumed.push({ act: other.act([0.1, 0.2, 0.3], "explore")[0] });
    assert.deepEqual(resumed, continued);
    agent.dispose();
    other.dispose();
  });
}

test("model-based values need a model: clear errors for a model-free agent or snapshot", async () => {
  await initBackend();
  const mf = SacAgent.create({ ...config("iterative"), valueEstimate: "model-free" }, SPEC, new Rng(1));
  assert.throws(() => mf.objective(1, 0.1, "online", new Rng(0), "model-based"), /needs an agent with a learned model/);
  assert.equal(mf.pretrain(() => { throw new Error("never sampled"); }), null);
  const mb = SacAgent.create(config("iterative"), SPEC, new Rng(1));
  await assert.rejects(mb.setState(await mf.getState()), /agent snapshot has no learned model: it was saved by an agent with model-free values/);
  mf.dispose();
  mb.dispose();
});
