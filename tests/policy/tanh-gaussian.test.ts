import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { deterministicAction, klToUniformPriorSamples, pessimisticQ, tanhGaussianLogProb, uniformPriorLogProb } from "../../lib/policy";

function logNormal(x: number, mean: number, std: number): number {
  return -0.5 * ((x - mean) / std) ** 2 - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
}

test("tanh-Gaussian log-density equals the hand-computed change of variables", async () => {
  await initBackend();
  const mean = [0.3, -1.2];
  const std = [0.5, 2.0];
  const u = [0.7, -3.5];
  // log π(a) = Σ log N(u; μ, σ) − log(1 − tanh(u)²), computed in double precision by hand.
  const expected = u.reduce((acc, ui, i) => acc + logNormal(ui, mean[i], std[i]) - Math.log(1 - Math.tanh(ui) ** 2), 0);
  const lambda = { mean: tf.tensor2d([mean]), logStd: tf.tensor2d([std.map(Math.log)]) };
  const got = tanhGaussianLogProb(lambda, tf.tensor3d([[u]])).dataSync()[0];
  assert.ok(Math.abs(got - expected) < 1e-4, `log π ${got} vs ${expected}`);
  // KL sample to U(-1,1)^2: log π + 2 log 2.
  const kl = klToUniformPriorSamples(lambda, tf.tensor3d([[u]])).dataSync()[0];
  assert.ok(Math.abs(kl - (expected + 2 * Math.LN2)) < 1e-4);
  assert.equal(uniformPriorLogProb(3), -3 * Math.LN2);
  assert.deepEqual(Array.from(deterministicAction(lambda).dataSync()).map((v) => +v.toFixed(6)), mean.map((m) => +Math.tanh(m).toFixed(6)));
});

test("log-density stays finite and exact where tanh saturates (no 1e-6 fudge)", async () => {
  await initBackend();
  const u = 12; // 1 − tanh² underflows float32 here
  const expected = logNormal(u, 0, 1) - (2 * (Math.LN2 - u - Math.log1p(Math.exp(-2 * u))));
  const got = tanhGaussianLogProb({ mean: tf.tensor2d([[0]]), logStd: tf.tensor2d([[0]]) }, tf.tensor3d([[[u]]])).dataSync()[0];
  assert.ok(Number.isFinite(got) && Math.abs(got - expected) < 1e-3, `${got} vs ${expected}`);
});

test("Monte Carlo KL of a narrow tanh-Gaussian at 0 to the uniform prior matches its closed form", async () => {
  await initBackend();
  // For small σ around μ = 0, tanh ≈ identity: KL ≈ −H(N(0,σ²)) + log 2 = −(0.5 log(2πe) + log σ) + log 2.
  const sigma = 0.01;
  const n = 4000;
  const noise = tf.randomNormal([n, 1, 1], 0, 1, "float32", 7) as tf.Tensor3D;
  const lambda = { mean: tf.tensor2d([[0]]), logStd: tf.tensor2d([[Math.log(sigma)]]) };
  const u = tf.mul(noise, sigma) as tf.Tensor3D;
  const kl = tf.mean(klToUniformPriorSamples(lambda, u)).dataSync()[0];
  const expected = -(0.5 * Math.log(2 * Math.PI * Math.E) + Math.log(sigma)) + Math.LN2;
  assert.ok(Math.abs(kl - expected) < 0.01, `KL ${kl} vs ${expected}`);
});

test("pessimistic Q (Eq. 12) with the population std: β = 1 is exactly min(Q1, Q2)", async () => {
  await initBackend();
  const q1 = tf.tensor1d([1, 5, -2, 3]);
  const q2 = tf.tensor1d([4, 2, -7, 3]);
  assert.deepEqual(Array.from(pessimisticQ(q1, q2, 1).dataSync()), [1, 2, -7, 3]);
  assert.deepEqual(Array.from(pessimisticQ(q1, q2, 0).dataSync()), [2.5, 3.5, -4.5, 3]);
  // β = 2.5: mean − 2.5·|Q1 − Q2|/2
  assert.deepEqual(Array.from(pessimisticQ(q1, q2, 2.5).dataSync()), [2.5 - 3.75, 3.5 - 3.75, -4.5 - 6.25, 3]);
});
