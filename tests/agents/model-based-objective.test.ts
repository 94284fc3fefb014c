/**
 * J on the model-based estimate (Eq. 7 with Q̂ of Eq. 13): equal to the model-free J at h = 0; at h = 2 equal to
 * Eq. 13 (maths.ts) along the rollout computed here step by step from the model, the rollout policy, the
 * Q-networks and the noise; and its gradient in λ, which flows through the model and the rollout policy, equal
 * to finite differences.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import type { QNetwork } from "../../lib/nn/q-network";
import type { LearnedModel } from "../../lib/agents/model-based/model";
import type { RolloutPolicy } from "../../lib/agents/model-based/rollout-policy";
import { ModelBasedObjective } from "../../lib/agents/model-based/objective";
import { retraceEstimate } from "../../lib/agents/model-based/maths";
import { pessimisticQValue } from "../../lib/policy/maths";
import { VariationalObjective, type QPair } from "../../lib/policy/objective";
import { objectiveAndGradient } from "../../lib/policy/iterative";
import { smallModelBasedNets } from "./model-based-networks";

const [O, A, B, N] = [3, 2, 4, 2];
const [ALPHA, BETA, GAMMA] = [0.3, 1.5, 0.9];

/** Two Q-networks, a model with random (non-zero) output layers and a rollout policy, all small. */
function parts(seed: number): { q: QPair; qs: QNetwork[]; model: LearnedModel; policy: RolloutPolicy; dispose: () => void } {
  const nets = smallModelBasedNets(O, A, new Rng(seed));
  return { ...nets, q: (s, a) => [nets.qs[0].apply(s, a), nets.qs[1].apply(s, a)] };
}

function objective(p: ReturnType<typeof parts>, horizon: number, retraceLambda: number, rng: Rng): ModelBasedObjective {
  return new ModelBasedObjective({ q: p.q, alpha: ALPHA, beta: BETA, samples: N, actionSize: A, rng, model: p.model, rolloutPolicy: (s) => p.policy.lambda(s), horizon, gamma: GAMMA, retraceLambda });
}

const logDensity = (u: number, mean: number, logStd: number): number =>
  -0.5 * ((u - mean) / Math.exp(logStd)) ** 2 - logStd - 0.5 * Math.log(2 * Math.PI) + 2 * Math.log(Math.cosh(u));

test("at h = 0 the model-based J is the model-free J", async () => {
  await initBackend();
  const p = parts(1);
  const data = new Rng(2);
  const states = tf.tensor2d(data.fillNormal(new Float32Array(B * O)) as Float32Array, [B, O]);
  const lambda = { mean: tf.tensor2d(data.fillNormal(new Float32Array(B * A), 0, 0.5) as Float32Array, [B, A]), logStd: tf.fill([B, A], -0.5) as tf.Tensor2D };
  const noise = data.fillNormal(new Float32Array(N * B * A)) as Float32Array;
  const mb = objective(p, 0, 0.9, new Rng(3));
  const mf = new VariationalObjective({ q: p.q, alpha: ALPHA, beta: BETA, samples: N, actionSize: A, rng: new Rng(3) });
  mb.setFixedNoise(noise);
  mf.setFixedNoise(noise);
  const [a, b] = [mb.evaluate(states, lambda), mf.evaluate(states, lambda)];
  assert.deepEqual(Array.from(a.j.dataSync()), Array.from(b.j.dataSync()));
  assert.deepEqual(Array.from(a.logProb!.dataSync()), Array.from(b.logProb!.dataSync()));
  tf.dispose([states, lambda.mean, lambda.logStd, a.j, a.q!, a.logProb!, b.j, b.q!, b.logProb!]);
  p.dispose();
});

test("at h = 2 the model-based J is Eq. 13 along the rollout, step by step", async () => {
  await initBackend();
  const p = parts(4);
  const data = new Rng(5);
  const s0 = data.fillNormal(new Float32Array(B * O)) as Float32Array;
  const mean = data.fillNormal(new Float32Array(B * A), 0, 0.5) as Float32Array;
  const logStd = Float32Array.from({ length: B * A }, () => -0.5 + 0.2 * data.normal());
  const noise = data.fillNormal(new Float32Array(N * B * A)) as Float32Array;
  const M = N * B;
  const h = 2;
  const rolloutNoise = new Rng(6).fillNormal(new Float32Array(h * M * A)) as Float32Array; // what the objective's Rng draws
  for (const retraceLambda of [0, 0.9, 1]) {
    const mb = objective(p, h, retraceLambda, new Rng(6));
    mb.setFixedNoise(noise);
    const got = tf.tidy(() => mb.evaluate(tf.tensor2d(s0, [B, O]), { mean: tf.tensor2d(mean, [B, A]), logStd: tf.tensor2d(logStd, [B, A]) }).j.dataSync());

    // by hand, one step at a time on plain arrays: Q_pess, r̂, s', the rollout policy's sampled action and its KL cost
    const qPess = (s: Float32Array, a: Float32Array): Float32Array => tf.tidy(() => {
      const [q1, q2] = p.q(tf.tensor2d(s, [M, O]), tf.tensor2d(a, [M, A])).map((t) => t.dataSync());
      return Float32Array.from(q1, (v, i) => pessimisticQValue(v, q2[i], BETA));
    });
    let s = new Float32Array(M * O);
    let a = new Float32Array(M * A);
    const logPi0 = new Float64Array(M);
    for (let r = 0; r < M; r++) {
      s.set(s0.subarray((r % B) * O, (r % B + 1) * O), r * O);
      for (let i = 0; i < A; i++) {
        const k = (r % B) * A + i;
        const u = mean[k] + Math.exp(logStd[k]) * noise[r * A + i];
        a[r * A + i] = Math.tanh(u);
        logPi0[r] += logDensity(u, mean[k], logStd[k]);
      }
    }
    const qs: Float32Array[] = [qPess(s, a)];
    const rewards: Float32Array[] = [];
    const costs: Float64Array[] = [];
    for (let k = 0; k < h; k++) {
      const step = tf.tidy(() => {
        const pred = p.model.predict(tf.tensor2d(s, [M, O]), tf.tensor2d(a, [M, A]));
        const lam = p.policy.lambda(pred.nextState);
        return { next: pred.nextState.dataSync() as Float32Array, reward: pred.reward.dataSync() as Float32Array, mu: lam.mean.dataSync(), ls: lam.logStd.dataSync() };
      });
      rewards.push(step.reward);
      s = step.next;
      a = new Float32Array(M * A);
      const cost = new Float64Array(M);
      for (let r = 0; r < M; r++) {
        let logPi = 0;
        for (let i = 0; i < A; i++) {
          const j = r * A + i;
          const u = step.mu[j] + Math.exp(step.ls[j]) * rolloutNoise[k * M * A + j];
          a[j] = Math.tanh(u);
          logPi += logDensity(u, step.mu[j], step.ls[j]);
        }
        cost[r] = ALPHA * (logPi + A * Math.LN2);
      }
      costs.push(cost);
      qs.push(qPess(s, a));
    }
    for (let b = 0; b < B; b++) {
      let want = 0;
      for (let n = 0; n < N; n++) {
        const r = n * B + b;
        const qHat = retraceEstimate(qs.map((q) => q[r]), rewards.map((x) => x[r]), costs.map((c) => c[r]), GAMMA, retraceLambda);
        want += (qHat - ALPHA * (logPi0[r] + A * Math.LN2)) / N;
      }
      assert.ok(Math.abs(got[b] - want) < 2e-4 * (1 + Math.abs(want)), `λ = ${retraceLambda}, state ${b}: J ${got[b]} vs ${want}`);
    }
  }
  p.dispose();
});

test("∇λ of the model-based J (through the model and the rollout policy) equals finite differences", async () => {
  await initBackend();
  const p = parts(7);
  const data = new Rng(8);
  const states = tf.tensor2d(data.fillNormal(new Float32Array(B * O)) as Float32Array, [B, O]);
  const mean = data.fillNormal(new Float32Array(B * A), 0, 0.5) as Float32Array;
  const logStd = Float32Array.from({ length: B * A }, () => -0.7);
  const mb = objective(p, 2, 0.9, new Rng(9));
  mb.setFixedNoise(data.fillNormal(new Float32Array(N * B * A)) as Float32Array);
  const at = (m: Float32Array, l: Float32Array) => ({ mean: tf.tensor2d(m, [B, A]), logStd: tf.tensor2d(l, [B, A]) });
  const jSum = (m: Float32Array, l: Float32Array): number => tf.tidy(() => {
    const terms = mb.evaluate(states, at(m, l));
    return tf.sum(terms.j).dataSync()[0];
  });
  const { grad, terms } = objectiveAndGradient(states, mb, at(mean, logStd));
  const gMean = grad.mean.dataSync();
  const gLogStd = grad.logStd.dataSync();
  const eps = 1e-2;
  for (const [which, values, g] of [["μ", mean, gMean], ["log σ", logStd, gLogStd]] as const) {
    for (const k of [0, 3, 6]) {
      const plus = Float32Array.from(values), minus = Float32Array.from(values);
      plus[k] += eps;
      minus[k] -= eps;
      const fd = which === "μ" ? (jSum(plus, logStd) - jSum(minus, logStd)) / (2 * eps) : (jSum(mean, plus) - jSum(mean, minus)) / (2 * eps);
      assert.ok(Math.abs(fd - g[k]) < 0.02 * (1 + Math.abs(fd)), `∂J/∂${which}[${k}]: autodiff ${g[k]}, finite differences ${fd}`);
    }
  }
  tf.dispose([states, grad.mean, grad.logStd, terms.j, terms.q!, terms.logProb!]);
  p.dispose();
});
