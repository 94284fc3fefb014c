/**
 * The model-based estimate's maths (lib/agents/model-based/maths.ts) against hand-computed values, with Eq. 13's
 * limits (h = 0: the model-free Q; λ = 0: the one-step model target; λ = 1: the h-step return), and each tf form
 * (retraceCombine, gaussianNll, gaussianKlPerState) against the pure function on random inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { gaussianKl, gaussianNegLogLikelihood, retraceCoefficient, retraceEstimate } from "../../lib/agents/model-based/maths";
import { retraceCombine, type Rollout } from "../../lib/agents/model-based/rollout";
import { gaussianNll } from "../../lib/agents/model-based/model";
import { gaussianKlPerState } from "../../lib/agents/model-based/rollout-policy";

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// h = 2: Q_0..Q_2, r̂_0, r̂_1, KL costs c_1, c_2
const Q = [1, 2, 3];
const R = [0.5, -1];
const C = [0.2, 0.1];
const GAMMA = 0.9;

test("Eq. 13 on a two-step rollout equals the hand-computed value", () => {
  // δ0 = 0.5 + 0.9(2 − 0.2) − 1 = 1.12; δ1 = −1 + 0.9(3 − 0.1) − 2 = −0.39; Q̂ = 1 + 1.12 + (0.9·0.5)·(−0.39)
  close(retraceEstimate(Q, R, C, GAMMA, 0.5), 1.9445, 1e-12, "λ = 0.5");
  close(retraceCoefficient(0, GAMMA, 0.5), 1, 0, "first weight");
  close(retraceCoefficient(2, GAMMA, 0.5), 0.45 ** 2, 1e-15, "third weight");
});

test("Eq. 13's limits: h = 0 is Q, λ = 0 the one-step model target, λ = 1 the h-step return", () => {
  assert.equal(retraceEstimate([1.7], [], [], GAMMA, 0.9), 1.7);
  close(retraceEstimate(Q, R, C, GAMMA, 0), R[0] + GAMMA * (Q[1] - C[0]), 1e-12, "λ = 0");
  const hStep = R[0] + GAMMA * R[1] - GAMMA * C[0] - GAMMA ** 2 * C[1] + GAMMA ** 2 * Q[2];
  close(retraceEstimate(Q, R, C, GAMMA, 1), hStep, 1e-12, "λ = 1");
  close(hStep, 1.769, 1e-12, "the h-step return by hand");
  assert.throws(() => retraceEstimate(Q, R, [0.2], GAMMA, 0.9), /need h \+ 1 Q values and h KL costs/);
});

test("Gaussian negative log-likelihood and KL equal their hand-computed values", () => {
  // z = (1 − 0.5)/2 = 0.25: ½·0.0625 + ln 2 + ½ ln 2π
  close(gaussianNegLogLikelihood(1, 0.5, Math.log(2)), 0.03125 + Math.LN2 + 0.5 * Math.log(2 * Math.PI), 1e-12, "nll");
  // KL(N(0, 1) || N(1, 4)) = ln 2 + (1 + 1)/8 − ½ = ln 2 − ¼
  close(gaussianKl(0, 0, 1, Math.log(2)), Math.LN2 - 0.25, 1e-12, "kl");
  close(gaussianKl(0.3, -0.7, 0.3, -0.7), 0, 1e-15, "kl of equal Gaussians");
  assert.ok(gaussianKl(0.3, -0.7, 0.2, -0.6) > 0);
});

test("the tf forms equal the pure functions on random inputs", async () => {
  await initBackend();
  const rng = new Rng(5);
  const [M, h, D] = [7, 3, 4];
  const rand = (n: number, scale = 1): Float32Array => rng.fillNormal(new Float32Array(n), 0, scale) as Float32Array;
  const q = Array.from({ length: h + 1 }, () => rand(M, 3));
  const rewards = Array.from({ length: h }, () => rand(M));
  const kl = Array.from({ length: h }, () => rand(M, 0.5));
  for (const lambda of [0, 0.9, 1]) {
    const got = tf.tidy(() => {
      const rollout: Rollout = { states: [], actions: [], rewards: rewards.map((v) => tf.tensor1d(v)), klCosts: kl.map((v) => tf.tensor1d(v)) };
      return retraceCombine(q.map((v) => tf.tensor1d(v)), rollout, GAMMA, lambda).dataSync();
    });
    for (let m = 0; m < M; m++) {
      const want = retraceEstimate(q.map((v) => v[m]), rewards.map((v) => v[m]), kl.map((v) => v[m]), GAMMA, lambda);
      close(got[m], want, 1e-4 * (1 + Math.abs(want)), `retrace row ${m}, λ = ${lambda}`);
    }
  }
  const x = rand(M * D, 2), mean = rand(M * D), logStd = rand(D, 0.5);
  const nll = tf.tidy(() => gaussianNll(tf.tensor2d(x, [M, D]), tf.tensor2d(mean, [M, D]), tf.tensor1d(logStd)).dataSync()[0]);
  let want = 0;
  for (let i = 0; i < M * D; i++) want += gaussianNegLogLikelihood(x[i], mean[i], logStd[i % D]);
  close(nll, want / M, 1e-4 * Math.abs(want / M), "nll");
  const [m1, s1, m2, s2] = [rand(M * D), rand(M * D, 0.5), rand(M * D), rand(M * D, 0.5)];
  const kls = tf.tidy(() => {
    const p = (a: Float32Array, b: Float32Array) => ({ mean: tf.tensor2d(a, [M, D]), logStd: tf.tensor2d(b, [M, D]) });
    return gaussianKlPerState(p(m1, s1), p(m2, s2)).dataSync();
  });
  for (let m = 0; m < M; m++) {
    let k = 0;
    for (let d = 0; d < D; d++) k += gaussianKl(m1[m * D + d], s1[m * D + d], m2[m * D + d], s2[m * D + d]);
    close(kls[m], k, 1e-4 * (1 + k), `kl row ${m}`);
  }
});
