import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import {
  DEFAULT_ITERATIVE_CONFIG, IterativeAmortizedOptimizer, QuadraticObjective, fitAmortizedOptimizer, gradientField,
  lambdaPath, objectiveSurface,
} from "../../lib/policy";

// J(λ) = −[(μ − 0.5)² + (log σ + 1)²]
const problem = (): QuadraticObjective => new QuadraticObjective({ mean: tf.tensor2d([[0.5]]), logStd: tf.tensor2d([[-1]]) });
const close = (a: number, b: number, tol = 1e-5): void => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test("objectiveSurface evaluates J on the (μ, log σ) grid", async () => {
  await initBackend();
  const q = problem();
  const state = tf.zeros([1, 1]) as tf.Tensor2D;
  const rows = objectiveSurface(q, state, { mean: [-0.5, 1.5], logStd: [-2, 0], points: 3 });
  assert.equal(rows.length, 9);
  assert.deepEqual(rows.map((r) => [r.mean, r.logStd]).slice(0, 4), [[-0.5, -2], [-0.5, -1], [-0.5, 0], [0.5, -2]]);
  close(rows[0].j, -(1 + 1)); // (−0.5 − 0.5)² + (−2 + 1)²
  close(rows[4].j, 0); // the optimum is the centre
  close(rows[8].j, -(1 + 1));
  assert.throws(() => objectiveSurface(q, state, { mean: [0, 1], logStd: [0, 1], points: 1 }), /grid points must be an integer >= 2/);
  assert.throws(() => objectiveSurface(QuadraticObjective.sample(new Rng(0), 1, 2), state, { mean: [0, 1], logStd: [0, 1], points: 2 }), /needs a 1-dimensional action; this objective has 2/);
  q.dispose();
  state.dispose();
});

test("gradientField arrows follow ∇λ J = −2(λ − λ*); lambdaPath labels each estimate with J", async () => {
  await initBackend();
  const q = problem();
  const state = tf.zeros([1, 1]) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  const arrows = gradientField(q, state, { mean: [0, 1], logStd: [-1, 0], points: 2 }, 0.1);
  // at (0, 0): ∇ = (−2(0 − 0.5), −2(0 + 1)) = (1, −2)
  const a = arrows.find((r) => r.mean === 0 && r.logStd === 0)!;
  close(a.mean2, 0.1);
  close(a.logStd2, -0.2);
  close(a.j, -(0.25 + 1));
  const lambdas = [0, 0.5].map((m) => ({ mean: tf.tensor2d([[m]]), logStd: tf.tensor2d([[-1]]) }));
  const path = lambdaPath(q, state, lambdas, "x");
  assert.deepEqual(path.map((r) => [r.iteration, r.mean, r.logStd, r.label]), [[0, 0, -1, "x"], [1, 0.5, -1, "x"]]);
  close(path[0].j, -0.25);
  close(path[1].j, 0);
  lambdas.forEach((l) => tf.dispose([l.mean, l.logStd]));
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
  q.dispose();
  state.dispose();
});

test("fitAmortizedOptimizer trains an iterative optimizer on the quadratic family: the loss falls", async () => {
  await initBackend();
  const rng = new Rng(5);
  const opt = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: { ...DEFAULT_ITERATIVE_CONFIG.network, hiddenSizes: [32, 32] } }, 1, 1, rng.fork());
  const sample = (r: Rng) => ({ states: tf.zeros([32, 1]) as tf.Tensor2D, objective: QuadraticObjective.sample(r, 32, 1) });
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  const rows = await fitAmortizedOptimizer(opt, sample, { steps: 60, learningRate: 3e-3, rng, onProgress: (p) => seen.push(p.done) });
  assert.equal(rows.length, 60);
  const mean = (xs: { loss: number }[]): number => xs.reduce((a, r) => a + r.loss, 0) / xs.length;
  assert.ok(mean(rows.slice(-10)) < 0.6 * mean(rows.slice(0, 10)), `loss ${mean(rows.slice(0, 10))} -> ${mean(rows.slice(-10))}`);
  assert.deepEqual(seen, [25, 50, 60]);
  assert.equal(tf.memory().numTensors, before, "training leaked tensors");
  await assert.rejects(fitAmortizedOptimizer(opt, sample, { steps: 0, rng }), /steps must be a positive integer/);
  opt.dispose();
});
