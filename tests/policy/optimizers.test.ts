import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { createAdam } from "../../lib/backend/adam";
import { Rng } from "../../lib/core/rng";
import { ConfigError } from "../../lib/core/errors";
import { Mlp, QNetwork, type MlpBody } from "../../lib/nn";
import {
  CemOptimizer,
  DEFAULT_CEM_CONFIG,
  DEFAULT_ITERATIVE_CONFIG,
  DirectAmortizedOptimizer,
  GradientAscentOptimizer,
  IterativeAmortizedOptimizer,
  QuadraticObjective,
  VariationalObjective,
  disposeOptimization,
  gatedUpdate,
  initialPolicyParams,
  objectiveAndGradient,
  type PolicyOptimizer,
} from "../../lib/policy";

const SMALL: MlpBody = { hiddenSizes: [64, 64], activation: "relu", layerNorm: false, connectivity: "sequential" };
const A = 3;
const S = 4;
const B = 64;

/** Mean relative gap left after optimizing a fresh batch of quadratic problems. */
function meanGap(opt: PolicyOptimizer, rng: Rng, iterations?: number): number {
  const objective = QuadraticObjective.sample(rng, B, A);
  const states = tf.zeros([B, S]) as tf.Tensor2D;
  const result = opt.optimize(states, objective, { iterations });
  const start = initialPolicyParams(B, A, 1);
  const gap = tf.tidy(() => tf.mean(objective.relativeGap(result.lambda, start)).dataSync()[0]);
  tf.dispose([states, start.mean, start.logStd]);
  disposeOptimization(result);
  objective.dispose();
  return gap;
}

/** Trains an amortized optimizer on random members of the quadratic family (inputs carry no information). */
function train(opt: PolicyOptimizer, rng: Rng, steps: number): void {
  const adam = createAdam({ learningRate: 1e-3 });
  const params = opt.params;
  assert.ok(params);
  for (let i = 0; i < steps; i++) {
    const objective = QuadraticObjective.sample(rng, B, A);
    const states = tf.tensor2d(rng.fillNormal(new Float32Array(B * S)) as Float32Array, [B, S]);
    let result = null as ReturnType<PolicyOptimizer["optimize"]> | null;
    const { value, grads } = tf.variableGrads(() => {
      result = opt.optimize(states, objective, { training: true });
      return result.loss as tf.Scalar;
    }, params.variables());
    adam.applyGradients(params.gradientMap(grads));
    tf.dispose([value, states, ...Object.values(grads)]);
    disposeOptimization(result as unknown as ReturnType<PolicyOptimizer["optimize"]>);
    objective.dispose();
  }
  adam.dispose();
}

test("iterative amortization learns to reach within 1% of the optimum in 5 iterations; direct cannot", async () => {
  await initBackend();
  const rng = new Rng(3);
  const iterative = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: SMALL }, S, A, rng.fork());
  const direct = new DirectAmortizedOptimizer({ network: SMALL }, S, A, rng.fork());
  const before = tf.memory().numTensors;
  train(iterative, rng, 700);
  train(direct, rng, 300);
  const iterGap = meanGap(iterative, rng);
  const directGap = meanGap(direct, rng);
  assert.ok(iterGap < 0.01, `iterative relative gap after 5 iterations ${iterGap}`);
  assert.ok(directGap > 10 * iterGap && directGap > 0.1, `direct gap ${directGap} should be far worse than iterative ${iterGap}`);
  assert.equal(tf.memory().numTensors, before, "training leaked tensors");
  iterative.dispose();
  direct.dispose();
});

test("gradient ascent (Adam) and CEM on λ converge on the quadratic family", async () => {
  await initBackend();
  const rng = new Rng(5);
  const adam = new GradientAscentOptimizer({ learningRate: 0.05, iterations: 200, initialStd: 1 }, A);
  const cem = new CemOptimizer({ ...DEFAULT_CEM_CONFIG, iterations: 100, stepSize: 0.5, initialSearchStd: 1 }, A, rng.fork());
  const before = tf.memory().numTensors;
  const adamGap = meanGap(adam, rng);
  const cemGap = meanGap(cem, rng);
  assert.ok(adamGap < 0.01, `Adam gap ${adamGap}`);
  assert.ok(cemGap < 0.01, `CEM gap ${cemGap}`);
  assert.ok(meanGap(adam, rng, 5) > 0.3, "5 Adam steps should be far from the optimum (the comparison's point)");
  assert.equal(tf.memory().numTensors, before, "optimizers leaked tensors");
});

test("the gated update is Eq. 11 and the zero-initialised optimizer starts at δ = 0, ω = 0.5", async () => {
  await initBackend();
  const got = gatedUpdate(tf.tensor1d([2, -1, 4]), tf.tensor1d([0, 3, 1]), tf.tensor1d([0.25, 0.5, 1])).dataSync();
  assert.deepEqual(Array.from(got), [0.25 * 2 + 0.75 * 0, 0.5 * -1 + 0.5 * 3, 4]);
  const opt = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: SMALL, initialStd: 0.5 }, S, A, new Rng(1));
  const objective = QuadraticObjective.sample(new Rng(2), 2, A);
  const result = opt.optimize(tf.ones([2, S]) as tf.Tensor2D, objective, { iterations: 1 });
  assert.deepEqual(Array.from(result.trace[0].lambda.logStd.dataSync()).map((v) => +v.toFixed(6)), Array(2 * A).fill(+Math.log(0.5).toFixed(6)));
  assert.deepEqual(Array.from(result.lambda.mean.dataSync()), Array(2 * A).fill(0));
  assert.deepEqual(Array.from(result.lambda.logStd.dataSync()).map((v) => +v.toFixed(6)), Array(2 * A).fill(+(0.5 * Math.log(0.5)).toFixed(6)));
  disposeOptimization(result);
  objective.dispose();
  opt.dispose();
});

test("∇λ J of the variational objective matches central finite differences", async () => {
  await initBackend();
  const rng = new Rng(11);
  const smooth: MlpBody = { hiddenSizes: [16], activation: "tanh", layerNorm: false, connectivity: "sequential" };
  const q1 = QNetwork.create(smooth, 2, 2, rng.fork());
  const q2 = QNetwork.create(smooth, 2, 2, rng.fork());
  const objective = new VariationalObjective({ q: (s, a) => [q1.apply(s, a), q2.apply(s, a)], alpha: 0.3, beta: 0.5, samples: 3, actionSize: 2, rng });
  objective.setFixedNoise(rng.fillNormal(new Float32Array(3 * 2 * 2)) as Float32Array);
  const states = tf.tensor2d([[0.5, -1], [1.5, 0.2]]);
  const mean = [0.2, -0.4, 0.7, 0.1];
  const logStd = [-0.5, 0.1, -1, 0.3];
  const lambda = { mean: tf.tensor2d(mean, [2, 2]), logStd: tf.tensor2d(logStd, [2, 2]) };
  const { terms, grad } = objectiveAndGradient(states, objective, lambda);
  const total = (m: number[], l: number[]): number =>
    tf.tidy(() => tf.sum(objective.evaluate(states, { mean: tf.tensor2d(m, [2, 2]), logStd: tf.tensor2d(l, [2, 2]) }).j).dataSync()[0]);
  const h = 1e-2;
  const gm = grad.mean.dataSync();
  const gl = grad.logStd.dataSync();
  for (let i = 0; i < 4; i++) {
    const up = mean.slice();
    const down = mean.slice();
    up[i] += h;
    down[i] -= h;
    const fdMean = (total(up, logStd) - total(down, logStd)) / (2 * h);
    const ul = logStd.slice();
    const dl = logStd.slice();
    ul[i] += h;
    dl[i] -= h;
    const fdLogStd = (total(mean, ul) - total(mean, dl)) / (2 * h);
    assert.ok(Math.abs(fdMean - gm[i]) < 2e-2 * (1 + Math.abs(fdMean)), `∂J/∂μ[${i}]: ${gm[i]} vs FD ${fdMean}`);
    assert.ok(Math.abs(fdLogStd - gl[i]) < 2e-2 * (1 + Math.abs(fdLogStd)), `∂J/∂logσ[${i}]: ${gl[i]} vs FD ${fdLogStd}`);
  }
  tf.dispose([terms.j, terms.q, terms.logProb, grad.mean, grad.logStd]);
});

test("the iterative optimizer's training gradient treats its inputs as constants", async () => {
  await initBackend();
  // With detached inputs, iteration k's loss term depends on φ only through iteration k's own update.
  // So the gradient of the 2-iteration loss equals the sum of one-iteration gradients taken from the same λ's.
  const rng = new Rng(21);
  const opt = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: { ...SMALL, hiddenSizes: [8] } }, S, A, rng.fork());
  const nudge = tf.tidy(() => opt.params.variables().map((v) => v.assign(tf.add(v, tf.mul(0.1, tf.randomNormal(v.shape, 0, 1, "float32", 3))))));
  void nudge;
  const objective = QuadraticObjective.sample(rng, 4, A);
  const states = tf.tensor2d(rng.fillNormal(new Float32Array(4 * S)) as Float32Array, [4, S]);
  const vars = opt.params.variables();
  const flat = (g: tf.NamedTensorMap): number[] => vars.flatMap((v) => Array.from(g[v.name].dataSync()));
  let full = null as ReturnType<PolicyOptimizer["optimize"]> | null;
  const both = tf.variableGrads(() => {
    full = opt.optimize(states, objective, { training: true, iterations: 2 });
    return full.loss as tf.Scalar;
  }, vars);
  const lambda1 = (full as unknown as ReturnType<PolicyOptimizer["optimize"]>).trace[1].lambda;
  const oneStep = (init: typeof lambda1) =>
    tf.variableGrads(() => {
      const r = opt.optimize(states, objective, { training: true, iterations: 1, init });
      const loss = r.loss as tf.Scalar;
      return loss;
    }, vars).grads;
  const g0 = flat(oneStep(initialPolicyParams(4, A, 1)));
  const g1 = flat(oneStep(lambda1));
  const expected = g0.map((v, i) => (v + g1[i]) / 2);
  const got = flat(both.grads);
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5 * (1 + Math.abs(v)), `param ${i}: ${v} vs ${expected[i]}`));
});

test("bad optimizer settings fail with a message naming the setting", async () => {
  await initBackend();
  const rng = new Rng(0);
  assert.throws(() => new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, trainIterations: 0 }, S, A, rng), (e: Error) => e instanceof ConfigError && /trainIterations/.test(e.message));
  assert.throws(() => new CemOptimizer({ ...DEFAULT_CEM_CONFIG, elites: 200 }, A, rng), /cem\.elites/);
  assert.throws(() => new GradientAscentOptimizer({ learningRate: -1, iterations: 5, initialStd: 1 }, A), /learningRate/);
  assert.throws(() => new VariationalObjective({ q: () => [tf.zeros([1]), tf.zeros([1])] as [tf.Tensor1D, tf.Tensor1D], alpha: 1, beta: 1, samples: 0, actionSize: 1, rng }), /samples/);
  assert.throws(() => Mlp.create({ ...SMALL, connectivity: "highway", hiddenSizes: [4, 8], inputSize: 2, outputSize: 1, outputInit: "zeros" }, rng), /highway/);
});
