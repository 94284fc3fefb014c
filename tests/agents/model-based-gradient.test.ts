/**
 * The hand-written gradients of the model-based estimate (lib/agents/model-based/maths.ts): Eq. 13's weights
 * against hand-computed values and differences of retraceEstimate, the likelihood's and the KL's gradients and
 * ∂Q̂/∂a_0 through a whole rollout (retraceActionGradient) against central finite differences in float64, and
 * ∂Q̂/∂a_0 composed from each network's vector–Jacobian product against tfjs autodiff through modelBasedQ.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { modelBasedQ, unroll, type RolloutParts } from "../../lib/agents/model-based/rollout";
import {
  gaussianKl, gaussianKlGradLogStd2, gaussianKlGradMean2, gaussianNegLogLikelihood, gaussianNllGradLogStd, gaussianNllGradMean,
  retraceActionGradient, retraceEstimate, retraceWeights, type Rows, type RolloutVjps,
} from "../../lib/agents/model-based/maths";
import { pessimisticQ } from "../../lib/policy/objective";
import { tanhGaussianLogDensity } from "../../lib/policy/maths";
import { smallModelBasedNets } from "./model-based-networks";

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const GAMMA = 0.9;

test("Eq. 13's weights on its terms equal the hand-computed ones and its differences", () => {
  // h = 2, γ = 0.9, λ = 0.5: w = (1, 0.45); Q_1: γw_0 − w_1 = 0.45, Q_2: γw_1 = 0.405
  const w = retraceWeights(2, GAMMA, 0.5);
  assert.deepEqual(Array.from(w.q).map((v) => +v.toFixed(12)), [0, 0.45, 0.405]);
  assert.deepEqual(Array.from(w.rewards).map((v) => +v.toFixed(12)), [1, 0.45]);
  assert.deepEqual(Array.from(w.klCosts).map((v) => +v.toFixed(12)), [-0.9, -0.405]);
  assert.deepEqual(Array.from(retraceWeights(0, GAMMA, 0.5).q), [1]);
  const rng = new Rng(1);
  for (const h of [0, 1, 2, 3]) {
    for (const lambda of [0, 0.5, 1]) {
      const q = Array.from(rng.fillNormal(new Float64Array(h + 1)));
      const r = Array.from(rng.fillNormal(new Float64Array(h)));
      const c = Array.from(rng.fillNormal(new Float64Array(h)));
      const wt = retraceWeights(h, GAMMA, lambda);
      const base = retraceEstimate(q, r, c, GAMMA, lambda);
      // Q̂ is linear in each term: a unit step changes it by exactly the weight
      const step = (arr: number[], i: number): number[] => arr.map((v, j) => (j === i ? v + 1 : v));
      for (let i = 0; i <= h; i++) close(retraceEstimate(step(q, i), r, c, GAMMA, lambda) - base, wt.q[i], 1e-12, `h=${h} λ=${lambda} Q_${i}`);
      for (let i = 0; i < h; i++) {
        close(retraceEstimate(q, step(r, i), c, GAMMA, lambda) - base, wt.rewards[i], 1e-12, `h=${h} λ=${lambda} r_${i}`);
        close(retraceEstimate(q, r, step(c, i), GAMMA, lambda) - base, wt.klCosts[i], 1e-12, `h=${h} λ=${lambda} c_${i + 1}`);
      }
    }
  }
});

test("the likelihood's and the KL's gradients equal finite differences", () => {
  const e = 1e-6;
  const fd = (f: (v: number) => number, v: number): number => (f(v + e) - f(v - e)) / (2 * e);
  const [x, m, s] = [0.7, -0.2, -0.4];
  close(gaussianNllGradMean(x, m, s), fd((v) => gaussianNegLogLikelihood(x, v, s), m), 1e-7, "nll d mean");
  close(gaussianNllGradLogStd(x, m, s), fd((v) => gaussianNegLogLikelihood(x, m, v), s), 1e-7, "nll d log std");
  const [m1, s1, m2, s2] = [0.3, -0.8, -0.1, -0.3];
  close(gaussianKlGradMean2(m1, s1, m2, s2), fd((v) => gaussianKl(m1, s1, v, s2), m2), 1e-7, "kl d mean2");
  close(gaussianKlGradLogStd2(m1, s1, m2, s2), fd((v) => gaussianKl(m1, s1, m2, v), s2), 1e-7, "kl d log std2");
});

/** A float64 rollout of small tanh layers y = tanh(W x), W [out, in], with their vector–Jacobian products. */
function tanhLayer(w: Float64Array, out: number, x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let z = 0;
    for (let i = 0; i < n; i++) z += w[o * n + i] * x[i];
    y[o] = Math.tanh(z);
  }
  return y;
}
function tanhLayerVjp(w: Float64Array, y: Float64Array, n: number, g: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(n);
  for (let o = 0; o < y.length; o++) for (let i = 0; i < n; i++) dx[i] += w[o * n + i] * (1 - y[o] * y[o]) * g[o];
  return dx;
}

test("∂Q̂/∂a_0 through a float64 rollout equals central finite differences", () => {
  const [O, A, M, ALPHA] = [3, 2, 3, 0.3];
  const rng = new Rng(7);
  const rand = (n: number, scale: number): Float64Array => rng.fillNormal(new Float64Array(n), 0, scale) as Float64Array;
  // model: Δs = tanh(Wt [s, a]), r̂ = v·tanh(Wr [s, a]); policy: [μ, z] = tanh(Wp s), log σ = 0.5 z; Q = q·tanh(Wq [s, a])
  const [Wt, Wr, vr, Wp, Wq, vq] = [rand(O * (O + A), 0.6), rand(4 * (O + A), 0.6), rand(4, 1), rand(2 * A * O, 0.8), rand(5 * (O + A), 0.6), rand(5, 1)];
  const s0 = rand(M * O, 1);
  for (const [h, lambda] of [[1, 0.9], [2, 0.9], [3, 0.5], [2, 0], [2, 1], [0, 0.9]]) {
    const eps = Array.from({ length: h }, () => rand(M * A, 1));
    // Per row: the rollout's values, and what the reverse pass needs.
    const rollout = (row: number, a0: ArrayLike<number>) => {
      const s: Float64Array[] = [s0.slice(row * O, row * O + O)];
      const a: Float64Array[] = [Float64Array.from(a0)];
      const rec = { t: [] as Float64Array[], r: [] as Float64Array[], p: [] as Float64Array[], q: [] as Float64Array[], sigma: [] as Float64Array[] };
      const rewards: number[] = [], costs: number[] = [], qs: number[] = [];
      for (let k = 0; k <= h; k++) {
        const x = [...s[k], ...a[k]];
        rec.q.push(tanhLayer(Wq, 5, x));
        qs.push(rec.q[k].reduce((acc, y, i) => acc + vq[i] * y, 0));
        if (k === h) break;
        const t = tanhLayer(Wt, O, x), r = tanhLayer(Wr, 4, x);
        rec.t.push(t);
        rec.r.push(r);
        rewards.push(r.reduce((acc, y, i) => acc + vr[i] * y, 0));
        const next = s[k].map((v, i) => v + t[i]);
        const p = tanhLayer(Wp, 2 * A, next);
        rec.p.push(p);
        const an = new Float64Array(A), sigma = new Float64Array(A);
        let logPi = 0;
        for (let i = 0; i < A; i++) {
          const logStd = 0.5 * p[A + i];
          sigma[i] = Math.exp(logStd);
          const u = p[i] + sigma[i] * eps[k][row * A + i];
          an[i] = Math.tanh(u);
          logPi += tanhGaussianLogDensity(u, p[i], logStd);
        }
        rec.sigma.push(sigma);
        costs.push(ALPHA * (logPi + A * Math.LN2));
        s.push(next);
        a.push(an);
      }
      return { value: retraceEstimate(qs, rewards, costs, GAMMA, lambda), s, a, rec };
    };
    const a0 = rand(M * A, 0.5).map(Math.tanh);
    const runs = Array.from({ length: M }, (_, m) => rollout(m, a0.subarray(m * A, m * A + A)));
    // the batched VJPs, row by row through the recorded layers
    const perRow = (width: number, f: (m: number) => ArrayLike<number>): Float64Array => {
      const out = new Float64Array(M * width);
      for (let m = 0; m < M; m++) out.set(f(m), m * width);
      return out;
    };
    const split = (dx: Float64Array, m: number, into: { dState: Float64Array; dAction: Float64Array }): void => {
      into.dState.set(dx.subarray(0, O), m * O);
      into.dAction.set(dx.subarray(O), m * A);
    };
    const vjps: RolloutVjps = {
      value: (k, dq) => {
        const out = { dState: new Float64Array(M * O), dAction: new Float64Array(M * A) };
        for (let m = 0; m < M; m++) split(tanhLayerVjp(Wq, runs[m].rec.q[k], O + A, vq.map((v) => v * dq[m])), m, out);
        return out;
      },
      model: (k, dNext, dReward) => {
        const out = { dState: new Float64Array(M * O), dAction: new Float64Array(M * A) };
        for (let m = 0; m < M; m++) {
          const dx = tanhLayerVjp(Wt, runs[m].rec.t[k], O + A, dNext.subarray(m * O, m * O + O));
          const dr = tanhLayerVjp(Wr, runs[m].rec.r[k], O + A, vr.map((v) => v * dReward[m]));
          for (let i = 0; i < O; i++) dx[i] += dr[i] + dNext[m * O + i]; // + the residual's identity
          for (let i = O; i < O + A; i++) dx[i] += dr[i];
          split(dx, m, out);
        }
        return out;
      },
      policy: (k, dMean, dLogStd) => perRow(O, (m) => tanhLayerVjp(Wp, runs[m].rec.p[k - 1], O, [...dMean.subarray(m * A, m * A + A), ...Array.from(dLogStd.subarray(m * A, m * A + A), (g) => 0.5 * g)])),
    };
    const samples = {
      actions: Array.from({ length: h }, (_, k) => perRow(A, (m) => runs[m].a[k + 1])),
      noise: eps,
      sigma: Array.from({ length: h }, (_, k) => perRow(A, (m) => runs[m].rec.sigma[k])),
    };
    const grad = retraceActionGradient({ rows: M, observationSize: O, actionSize: A }, h, GAMMA, lambda, ALPHA, samples, vjps);
    const e = 1e-6;
    for (let m = 0; m < M; m++) {
      for (let i = 0; i < A; i++) {
        const at = (d: number): number => {
          const x = Float64Array.from(a0.subarray(m * A, m * A + A));
          x[i] += d;
          return rollout(m, x).value;
        };
        close(grad[m * A + i], (at(e) - at(-e)) / (2 * e), 1e-6, `h=${h} λ=${lambda} row ${m} dim ${i}`);
      }
    }
  }
});

test("∂Q̂/∂a_0 from each network's vector–Jacobian product equals tfjs autodiff through modelBasedQ", async () => {
  await initBackend();
  const [O, A, M, ALPHA, BETA, H, LAMBDA] = [4, 3, 6, 0.2, 1.5, 2, 0.9];
  const rng = new Rng(11);
  const nets = smallModelBasedNets(O, A, rng);
  const { qs, model, policy } = nets;
  const parts: RolloutParts = {
    value: (s, a) => pessimisticQ(qs[0].apply(s, a), qs[1].apply(s, a), BETA, "population"),
    alpha: ALPHA, model, policy: (s) => policy.lambda(s), horizon: H, gamma: GAMMA, retraceLambda: LAMBDA,
  };
  const states = tf.tensor2d(rng.fillNormal(new Float32Array(M * O)) as Float32Array, [M, O]);
  const actions = tf.tensor2d(Float32Array.from(rng.fillNormal(new Float32Array(M * A)), Math.tanh), [M, A]);
  const noiseValues = rng.fillNormal(new Float32Array(H * M * A)) as Float32Array;
  const noise = tf.tensor3d(noiseValues, [H, M, A]);
  const want = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(modelBasedQ(parts, states, a as tf.Tensor2D, noise)))(actions).dataSync());
  // the rollout's recorded steps, then each network's VJP at them through tf.grads
  const r = tf.tidy(() => {
    const u = unroll(parts, states, actions, noise);
    return { s: u.states.map((t) => tf.keep(t)), a: u.actions.map((t) => tf.keep(t)) };
  });
  const vjp2 = (f: (s: tf.Tensor2D, a: tf.Tensor2D) => tf.Scalar, k: number): { dState: Rows; dAction: Rows } => tf.tidy(() => {
    const [ds, da] = tf.grads((s: tf.Tensor, a: tf.Tensor) => f(s as tf.Tensor2D, a as tf.Tensor2D))([r.s[k], r.a[k]]);
    return { dState: ds.dataSync() as Float32Array, dAction: da.dataSync() as Float32Array };
  });
  const vjps: RolloutVjps = {
    value: (k, dq) => vjp2((s, a) => tf.sum(tf.mul(parts.value(s, a), tf.tensor1d(Float32Array.from(dq)))), k),
    model: (k, dNext, dReward) => vjp2((s, a) => {
      const p = model.predict(s, a);
      return tf.add(tf.sum(tf.mul(p.nextState, tf.tensor2d(Float32Array.from(dNext), [M, O]))), tf.sum(tf.mul(p.reward, tf.tensor1d(Float32Array.from(dReward))))) as tf.Scalar;
    }, k),
    policy: (k, dMean, dLogStd) => tf.tidy(() => tf.grad((s: tf.Tensor) => {
      const l = policy.lambda(s as tf.Tensor2D);
      return tf.add(tf.sum(tf.mul(l.mean, tf.tensor2d(Float32Array.from(dMean), [M, A]))), tf.sum(tf.mul(l.logStd, tf.tensor2d(Float32Array.from(dLogStd), [M, A]))));
    })(r.s[k]).dataSync() as Float32Array),
  };
  const sigma = Array.from({ length: H }, (_, k) => tf.tidy(() => tf.exp(policy.lambda(r.s[k + 1]).logStd).dataSync() as Float32Array));
  const samples = {
    actions: r.a.slice(1).map((t) => t.dataSync() as Float32Array),
    noise: Array.from({ length: H }, (_, k) => noiseValues.subarray(k * M * A, (k + 1) * M * A)),
    sigma,
  };
  const got = retraceActionGradient({ rows: M, observationSize: O, actionSize: A }, H, GAMMA, LAMBDA, ALPHA, samples, vjps);
  for (let i = 0; i < M * A; i++) close(got[i], want[i], 2e-4 * (1 + Math.abs(want[i])), `d a_0[${i}]`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-2), "the gradient is not trivially zero");
  tf.dispose([...r.s, ...r.a, states, actions, noise]);
  nets.dispose();
});
