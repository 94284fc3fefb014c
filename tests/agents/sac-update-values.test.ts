/**
 * One SAC update checked by value, on each update path the backend runs (the tfjs autodiff path everywhere,
 * the fused native path where the addon loads): its metrics, the Q-networks' output bias after Adam's first
 * step, and the target networks after Polyak averaging, all computed here by hand (in double) from the
 * networks' outputs and the agent's noise. The batch mixes done flags (the (1 − d) mask of the target), the
 * policy objective uses the target Q-networks (useTargetQForPolicy) and α is fixed (autoTemperature: false).
 * Then again with the authors' code's policy-side options: the unbiased std in Eq. 12, the soft clamp of log σ
 * and the Xavier start (whose direct policy begins at μ = 0). Then the options of SacConfig that change an update,
 * by value on each path: the temperature loss's two forms (the logged loss and the gradient Adam's first moment
 * holds) and the hard target updates (copies on the updates target-update.ts names, frozen or Polyak in between,
 * the same after a resume).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import type { ReplayBatch } from "../../lib/agents/replay-buffer";
import { SacAgent, type AgentSnapshot } from "../../lib/agents/sac/agent";
import type { SacConfig } from "../../lib/agents/sac/config";
import { defaultSacConfig } from "../../lib/presets";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { DirectAmortizedOptimizer } from "../../lib/policy/direct";
import type { NamedWeights } from "../../lib/nn/parameters";

const [O, A, B, N] = [3, 2, 6, 2];
const DONE = [0, 1, 0, 0, 1, 0];

const PAPER_CONFIG: SacConfig = {
  ...defaultSacConfig("Bandit", "direct", "smoke"),
  batchSize: B,
  policyHiddenSizes: [16, 16],
  samples: N,
  gamma: 0.9,
  tau: 0.1,
  learningRate: 0.03,
  betaTrain: 1.5, // Eq. 12 between the mean and the min
  useTargetQForPolicy: true,
  autoTemperature: false,
  initialLogAlpha: -0.7,
};
const ALPHA = Math.exp(-0.7);
const CODE_CONFIG: SacConfig = { ...PAPER_CONFIG, pessimismStd: "unbiased", logStdBounds: "soft-clamp", networkInit: "xavier" };

/** β·std(Q1, Q2) of Eq. 12, written out: |Q1 − Q2|/2 (population) or |Q1 − Q2|/√2 (unbiased). */
const penalty = (config: SacConfig, q1: number, q2: number): number =>
  config.betaTrain * (config.pessimismStd === "unbiased" ? Math.abs(q1 - q2) / Math.SQRT2 : Math.abs(q1 - q2) / 2);

/** Six transitions with random states, actions and rewards, and the done flags above. */
function batchOf(): ReplayBatch {
  const data = new Rng(3);
  return {
    size: B, observationSize: O, actionSize: A,
    observations: data.fillNormal(new Float32Array(B * O)) as Float32Array,
    actions: data.fillUniform(new Float32Array(B * A), -1, 1) as Float32Array,
    rewards: data.fillNormal(new Float32Array(B), 0, 2) as Float32Array,
    nextObservations: data.fillNormal(new Float32Array(B * O)) as Float32Array,
    terminated: Float32Array.from(DONE),
  };
}

/** log π of one dimension the textbook way: log N(u; μ, σ) + 2 log cosh u (= −log(1 − tanh² u)). */
const logDensity = (u: number, mean: number, logStd: number): number =>
  -0.5 * ((u - mean) / Math.exp(logStd)) ** 2 - logStd - 0.5 * Math.log(2 * Math.PI) + 2 * Math.log(Math.cosh(u));

/**
 * J(s, λ) per state (Eq. 7, 12) by hand with the given noise [N, B, |A|]: mean over n of Q_pess − α(log π + |A| log 2),
 * with Q1, Q2 the agent's networks (`which`) evaluated on the sampled actions. Also mean log π per state.
 */
function handJ(agent: SacAgent, which: "online" | "target", states: Float32Array, noise: Float32Array): { j: number[]; logProb: number[]; mean: Float32Array; logStd: Float32Array } {
  const config = agent.config;
  const policy = agent.optimizer;
  assert.ok(policy instanceof DirectAmortizedOptimizer);
  return tf.tidy(() => {
    const s = tf.tensor2d(states, [B, O]);
    const lambda = policy.policyParams(s);
    const mean = lambda.mean.dataSync() as Float32Array;
    const logStd = lambda.logStd.dataSync() as Float32Array;
    const actions = new Float32Array(N * B * A);
    const logPi = new Float64Array(N * B);
    for (let r = 0; r < N * B; r++) {
      for (let i = 0; i < A; i++) {
        const p = (r % B) * A + i;
        const u = mean[p] + Math.exp(logStd[p]) * noise[r * A + i];
        actions[r * A + i] = Math.tanh(u);
        logPi[r] += logDensity(u, mean[p], logStd[p]);
      }
    }
    const tiled = tf.tile(s, [N, 1]) as tf.Tensor2D;
    const [q1, q2] = agent.qPair(which)(tiled, tf.tensor2d(actions, [N * B, A])).map((q) => q.dataSync());
    const j: number[] = [];
    const logProb: number[] = [];
    for (let st = 0; st < B; st++) {
      let qs = 0;
      let lp = 0;
      for (let n = 0; n < N; n++) {
        const r = n * B + st;
        qs += (q1[r] + q2[r]) / 2 - penalty(config, q1[r], q2[r]);
        lp += logPi[r];
      }
      logProb.push(lp / N);
      j.push(qs / N - ALPHA * (lp / N + A * Math.LN2));
    }
    return { j, logProb, mean: Float32Array.from(mean), logStd: Float32Array.from(logStd) };
  });
}

const avg = (v: ArrayLike<number>): number => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
const outputBias = (w: NamedWeights): number => {
  const name = Object.keys(w).find((k) => k.endsWith("output/b"));
  assert.ok(name, "the Q-network has an output bias");
  return w[name].values[0];
};

for (const [CONFIG, options] of [[PAPER_CONFIG, ""], [CODE_CONFIG, ", the authors' code's std, log σ bounds and start"]] as const) for (const path of ["tfjs", "fused"] as const) {
  test(`one SAC update by value (${path} path): mixed done flags, target Q in the policy objective, fixed α${options}`, async (t) => {
    await initBackend();
    setFusedSacUpdates(path === "fused");
    try {
      const agent = SacAgent.create(CONFIG, { observationSize: O, actionSize: A }, new Rng(11));
      if (agent.updatePath().path !== path) {
        t.skip(`the ${path} path does not run here (${agent.updatePath().why})`);
        agent.dispose();
        return;
      }
      const batch = batchOf();
      const before = await agent.getState();
      // The agent's noise, drawn in its order: J at s' for the target (N·B·|A|), then J at s for the policy step.
      const rng = Rng.fromState(before.rng);
      const targetNoise = rng.fillNormal(new Float32Array(N * B * A)) as Float32Array;
      const policyNoise = rng.fillNormal(new Float32Array(N * B * A)) as Float32Array;

      // y = r + γ(1 − d)·V(s'), V = J on the target networks at λ' = f(s')
      const v = handJ(agent, "target", batch.nextObservations, targetNoise).j;
      const y = v.map((vs, s) => batch.rewards[s] + CONFIG.gamma * (1 - DONE[s]) * vs);
      const [q1, q2] = tf.tidy(() => agent.qPair("online")(tf.tensor2d(batch.observations, [B, O]), tf.tensor2d(batch.actions, [B, A])).map((q) => Float32Array.from(q.dataSync())));
      const loss = (q: Float32Array): number => avg(Array.from(q, (qs, s) => (qs - y[s]) ** 2));
      // the policy step's J, on the target networks (unchanged until Polyak at the end)
      const policy = handJ(agent, "target", batch.observations, policyNoise);
      if (CONFIG.networkInit === "xavier") assert.ok(policy.mean.every((m) => m === 0), "the code's start: the policy head is zero, μ = 0");

      const metrics = agent.update(batch);
      const after = await agent.getState();
      const close = (key: string, want: number, tol = 2e-5): void => {
        assert.ok(key in metrics, `metric ${key}`);
        assert.ok(Math.abs(metrics[key] - want) <= tol * Math.max(1, Math.abs(want)), `${key}: ${metrics[key]}, by hand ${want}`);
      };
      close("train/q_target", avg(y));
      close("train/q1_value", avg(q1));
      close("train/q1_loss", loss(q1));
      close("train/q2_loss", loss(q2));
      close("train/policy_loss", -avg(policy.j));
      close("train/objective", avg(policy.j));
      close("train/entropy", -avg(policy.logProb));
      close("train/kl_prior", avg(policy.logProb) + A * Math.LN2);
      close("train/policy_mean_abs", avg(Array.from(policy.mean, Math.abs)));
      close("train/policy_scale", avg(Array.from(policy.logStd, Math.exp)));
      // fixed α: no temperature step
      close("train/alpha", ALPHA, 1e-7);
      assert.ok(!("train/alpha_loss" in metrics), "no temperature loss with autoTemperature: false");
      assert.equal(after.logAlpha, Math.fround(-0.7), "log α unchanged");

      // The checks can fail: without the (1 − d) mask, or with the online networks for the policy, the values move
      // well past the tolerance.
      const unmasked = avg(v.map((vs, s) => batch.rewards[s] + CONFIG.gamma * vs));
      assert.ok(Math.abs(unmasked - avg(y)) > 1e-2, "the done rows change the target");
      const online = handJ(agent, "online", batch.observations, policyNoise).j;
      assert.ok(Math.abs(avg(online) - avg(policy.j)) > 1e-3, "the updated online networks give another objective");

      // Adam's first step moves each weight by lr·g/(|g| + ε): the output bias by −lr·sign(∂L/∂b), ∂L/∂b = mean 2(Q − y).
      for (const [name, q] of [["q1", q1], ["q2", q2]] as const) {
        const g = avg(Array.from(q, (qs, s) => 2 * (qs - y[s])));
        const b0 = outputBias(before.networks[name]);
        const b1 = b0 - CONFIG.learningRate * g / (Math.abs(g) + 1e-8);
        assert.ok(Math.abs(outputBias(after.networks[name]) - b1) <= 1e-6, `${name} output bias: ${outputBias(after.networks[name])}, by hand ${b1}`);
        // Polyak: ψ' ← (1 − τ)ψ' + τψ, every weight (the targets started as copies of the online networks)
        const target = name === "q1" ? "q1Target" : "q2Target";
        for (const [k, w] of Object.entries(after.networks[target])) {
          const want = Array.from(before.networks[target][k].values, (old, i) => (1 - CONFIG.tau) * old + CONFIG.tau * after.networks[name][k].values[i]);
          w.values.forEach((got, i) => assert.ok(Math.abs(got - want[i]) <= 1e-6, `${target} ${k}[${i}]: ${got}, by hand ${want[i]}`));
        }
      }
      agent.dispose();
    } finally {
      setFusedSacUpdates(true);
    }
  });
}

/** An agent of PAPER_CONFIG with `changes` on the path, or null (the test skipped) where that path does not run here. */
async function agentOn(path: "tfjs" | "fused", changes: Partial<SacConfig>, t: { skip(why: string): void }, seed = 11): Promise<SacAgent | null> {
  await initBackend();
  const agent = SacAgent.create({ ...PAPER_CONFIG, ...changes }, { observationSize: O, actionSize: A }, new Rng(seed));
  if (agent.updatePath().path === path) return agent;
  t.skip(`the ${path} path does not run here (${agent.updatePath().why})`);
  agent.dispose();
  return null;
}

for (const path of ["tfjs", "fused"] as const) {
  for (const form of ["log-alpha", "alpha"] as const) {
    test(`temperature loss "${form}" by value (${path} path): the logged loss and the gradient Adam receives`, async (t) => {
      setFusedSacUpdates(path === "fused");
      try {
        const agent = await agentOn(path, { autoTemperature: true, temperatureLoss: form }, t);
        if (!agent) return;
        const metrics = agent.update(batchOf());
        const after = await agent.getState();
        // with E log π = −entropy and H = −|A|: "log-alpha" L = −log α·(E log π + H), ∂L/∂log α = −(E log π + H);
        // "alpha" L = −α·(E log π + H), ∂L/∂log α = −α·(E log π + H); log α = −0.7 before the step
        const gap = -metrics["train/entropy"] - A;
        const weight = form === "alpha" ? ALPHA : -0.7;
        const grad = form === "alpha" ? -ALPHA * gap : -gap;
        assert.ok(Math.abs(metrics["train/alpha_loss"] - -weight * gap) <= 1e-5 * Math.max(1, Math.abs(weight * gap)), `alpha_loss ${metrics["train/alpha_loss"]}, by hand ${-weight * gap}`);
        // Adam's first moment after one step is (1 − β1)·g
        const m = after.optimizers.alpha.find((w) => w.name === "log_alpha/m");
        assert.ok(m, "Adam's first moment of log α");
        assert.ok(Math.abs(m.values[0] - 0.1 * grad) <= 1e-5 * Math.abs(0.1 * grad), `∂L/∂log α ${m.values[0] / 0.1}, by hand ${grad}`);
        assert.ok(Math.abs(ALPHA - 1) > 0.3, "α far from 1, so the two forms' gradients differ");
        agent.dispose();
      } finally {
        setFusedSacUpdates(true);
      }
    });
  }

  for (const mode of ["hard", "polyak+hard"] as const) {
    test(`target update "${mode}" (${path} path): copies after updates 1 and 5 at τ = 0.25, ${mode === "hard" ? "frozen" : "Polyak"} in between; resumes exactly`, async (t) => {
      setFusedSacUpdates(path === "fused");
      try {
        const changes: Partial<SacConfig> = { targetUpdate: mode, tau: 0.25 }; // P = ⌊1/τ⌋ = 4
        const agent = await agentOn(path, changes, t);
        if (!agent) return;
        const batch = batchOf();
        const states: AgentSnapshot[] = [await agent.getState()];
        for (let u = 1; u <= 6; u++) {
          agent.update(batch);
          states.push(await agent.getState());
        }
        for (let u = 1; u <= 6; u++) {
          for (const [online, target] of [["q1", "q1Target"], ["q2", "q2Target"]] as const) {
            for (const [k, w] of Object.entries(states[u].networks[target])) {
              const now = Array.from(w.values);
              const before = Array.from(states[u - 1].networks[target][k].values);
              const source = Array.from(states[u].networks[online][k].values);
              if (u === 1 || u === 5) assert.deepEqual(now, source, `after update ${u}: ${target} ${k} is a copy of ${online}`);
              else if (mode === "hard") assert.deepEqual(now, before, `after update ${u}: ${target} ${k} unchanged`);
              else now.forEach((v, i) => assert.ok(Math.abs(v - (0.75 * before[i] + 0.25 * source[i])) <= 1e-6, `after update ${u}: ${target} ${k}[${i}] Polyak`));
            }
          }
        }
        const firstLayer = (w: NamedWeights): number[] => Array.from(Object.values(w)[0].values);
        assert.notDeepEqual(firstLayer(states[4].networks.q1Target), firstLayer(states[4].networks.q1), "between copies the targets lag the online networks");
        // Resumed from the state after 3 updates (the update count travels in it), a fresh agent copies after update 5 as well.
        const resumed = await agentOn(path, changes, t, 99);
        if (!resumed) return;
        await resumed.setState(states[3]);
        for (let u = 4; u <= 6; u++) resumed.update(batch);
        const end = await resumed.getState();
        for (const net of ["q1", "q2", "q1Target", "q2Target"] as const) {
          for (const [k, w] of Object.entries(end.networks[net])) assert.deepEqual(Array.from(w.values), Array.from(states[6].networks[net][k].values), `resumed ${net} ${k}`);
        }
        agent.dispose();
        resumed.dispose();
      } finally {
        setFusedSacUpdates(true);
      }
    });
  }
}
