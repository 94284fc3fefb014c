/**
 * The estimators' pure functions on objectives whose answers are known in closed form: the quadratic family
 * J(λ) = c − ‖μ − μ*‖² − ‖log σ − ℓ*‖² (gap, landscape) and J = E_π[−‖a − a*‖²] with α = 0 (optimizer
 * comparison: sup J = 0 at μ = atanh(a*), σ → 0).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ConfigError } from "../../lib/core/errors";
import { DEFAULT_ITERATIVE_CONFIG, IterativeAmortizedOptimizer, QuadraticObjective, VariationalObjective, disposeOptimization, disposePolicyParams, type PolicyOptimizer, type PolicyParams, type QPair } from "../../lib/policy";
import { ActionCemOptimizer } from "../../lib/policy/cem-actions";
import { GradientAscentOptimizer } from "../../lib/policy/gradient-ascent";
import { amortizationGap, compareOptimizers, multipleEstimates, optimizationLandscape } from "../../lib/analysis";
import { sampleActions } from "../../lib/analysis/action-cloud";
import type { Run } from "../../lib/runs";
import { improvementByIteration, improvementOverTraining } from "../../lib/analysis/per-iteration";

const params = (mean: number[], logStd: number[], batch: number): PolicyParams => {
  const A = mean.length / batch;
  return { mean: tf.tensor2d(mean, [batch, A]), logStd: tf.tensor2d(logStd, [batch, A]) };
};

test("amortization gap on a quadratic J: Adam from the amortized λ finds the analytic gap Σ (λ0 − λ*)² per state", async () => {
  await initBackend();
  const optimum = params([0.3, -0.2, 0.5, 0.1, 0, -0.4], [-0.5, -1, 0, -0.2, -0.7, -0.3], 2);
  const objective = new QuadraticObjective(optimum, 2);
  const offsets = [0.2, -0.1, 0.15, -0.2, 0.05, 0.1];
  const mu = Array.from(optimum.mean.dataSync()).map((m, i) => m + offsets[i]);
  const ls = Array.from(optimum.logStd.dataSync()).map((l, i) => l - offsets[5 - i]);
  const start = params(mu, ls, 2);
  const states = tf.zeros([2, 4]) as tf.Tensor2D;
  const r = amortizationGap({ states, start, ascent: objective, evaluation: objective, learningRate: 5e-3, steps: 100 });
  const analytic = [0, 1].map((s) => [0, 1, 2].reduce((acc, a) => acc + offsets[s * 3 + a] ** 2 + offsets[5 - (s * 3 + a)] ** 2, 0));
  for (let s = 0; s < 2; s++) {
    assert.ok(Math.abs(r.before[s] - (2 - analytic[s])) < 1e-5, `J(amortized) ${r.before[s]} vs ${2 - analytic[s]}`);
    assert.ok(Math.abs(r.gap[s] - analytic[s]) < 2e-3 * analytic[s] + 1e-5, `state ${s}: gap ${r.gap[s]} vs analytic ${analytic[s]}`);
  }
  assert.equal(r.trace.length, 101);
  assert.ok(Math.abs(r.trace[0] - (2 - (analytic[0] + analytic[1]) / 2)) < 1e-5, "the trace starts at J(amortized)");
  assert.ok(r.trace[100] > r.trace[50] - 1e-6 && r.trace[50] > r.trace[0], "the ascent climbs");
  assert.ok(Math.abs(r.mean - (analytic[0] + analytic[1]) / 2) < 2e-3);
  tf.dispose([states]);
  disposePolicyParams(start);
  objective.dispose();
});

test("landscape on a quadratic J: the grid optimum is the known point; an untrained iterative optimizer halves the two free dimensions from each start", async () => {
  await initBackend();
  const optimum = params([0.4, -0.6, 0.2], [-0.3, -0.3, -0.3], 1);
  const objective = new QuadraticObjective(optimum, 1);
  const center = params([0.9, 0.1, -0.8], [-0.3, -0.3, -0.3], 1);
  const state = tf.zeros([1, 5]) as tf.Tensor2D;
  const optimizer = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: { ...DEFAULT_ITERATIVE_CONFIG.network, hiddenSizes: [8] } }, 5, 3, new Rng(0));
  // two starts: the runs move as one batch, each on its own
  const start = params([1, 1, 1, -1, 7, 0.5], [0, 0, 0, 0, 0, 0], 2);
  const r = optimizationLandscape({ state, center, objective: () => objective, dims: [0, 2], resolution: 11, range: [-1, 1], chunk: 7, trajectory: { optimizer, iterations: 3, start } });
  const held = (0.1 + 0.6) ** 2; // μ1 stays at the amortized 0.1
  assert.ok(Math.abs(r.optimum.x - 0.4) < 1e-9 && Math.abs(r.optimum.y - 0.2) < 1e-9, `optimum at (${r.optimum.x}, ${r.optimum.y})`);
  assert.ok(Math.abs(r.optimum.j - (1 - held)) < 1e-5);
  assert.ok(Math.abs(r.amortized.j - (1 - held - 0.5 ** 2 - 1.0 ** 2)) < 1e-5, "J at the amortized estimate");
  assert.equal(r.j.length, 121);
  // row-major: j[iy * 11 + ix] at (xs[ix], ys[iy])
  const ix = 3, iy = 8;
  assert.ok(Math.abs(r.j[iy * 11 + ix] - (1 - held - (r.xs[ix] - 0.4) ** 2 - (r.ys[iy] - 0.2) ** 2)) < 1e-5);
  // zero-initialised output layer: δ = 0, ω = 0.5, so each step halves μ on the free dimensions
  // (the held dimension of the second start, 7, is replaced by the amortized 0.1 and never moves the path)
  assert.deepEqual(r.trajectories?.map((path) => path.map((p) => [p.x, p.y])), [
    [[1, 1], [0.5, 0.5], [0.25, 0.25], [0.125, 0.125]],
    [[-1, 0.5], [-0.5, 0.25], [-0.25, 0.125], [-0.125, 0.0625]],
  ]);
  const second = r.trajectories?.[1] ?? [];
  assert.ok(Math.abs(second[3].j - (1 - held - (-0.125 - 0.4) ** 2 - (0.0625 - 0.2) ** 2)) < 1e-5, "each path point scored on the surface");
  assert.throws(() => optimizationLandscape({ state, center, objective: () => objective, dims: [1, 1], resolution: 3, range: [-1, 1] }), ConfigError);
  assert.throws(() => optimizationLandscape({ state, center, objective: () => objective, dims: [0, 3], resolution: 3, range: [-1, 1] }), /two distinct action dimensions/);
  tf.dispose([state]);
  [optimum, center, start].forEach(disposePolicyParams);
  optimizer.dispose();
});

test("sampled actions are tanh(μ + σ ε) per row, the noise in output order, σ clipped as the optimizers clip log σ", () => {
  const mean = [0.5, -1, 2, 0];
  const logStd = [Math.log(0.5), 0, -40, 5];
  const actions = sampleActions(mean, logStd, 2, 3, new Rng(11));
  const eps = new Rng(11).fillNormal(new Float32Array(12));
  const sigma = [0.5, 1, Math.exp(-20), Math.exp(2)];
  assert.equal(actions.length, 12);
  for (let row = 0; row < 2; row++) {
    for (let n = 0; n < 3; n++) {
      for (let a = 0; a < 2; a++) {
        const k = (row * 3 + n) * 2 + a;
        assert.ok(Math.abs(actions[k] - Math.tanh(mean[row * 2 + a] + sigma[row * 2 + a] * eps[k])) < 1e-6, `row ${row} sample ${n} dim ${a}`);
      }
    }
  }
});

/** Q1 = Q2 = −‖a − a*‖², the same for every state. */
function targetQ(target: number[]): QPair {
  return (_s, a) => {
    const q = tf.tidy(() => tf.neg(tf.sum(tf.square(tf.sub(a, tf.tensor1d(target))), 1)) as tf.Tensor1D);
    return [q, q.clone()];
  };
}

test("optimizer comparison: Adam and action CEM reach the analytic optimum μ = atanh(a*), J → 0 (α = 0)", async () => {
  await initBackend();
  const target = [0.3, -0.5];
  const B = 4;
  const make = (seed: number): VariationalObjective => new VariationalObjective({ q: targetQ(target), alpha: 0, beta: 1, samples: 10, actionSize: 2, rng: new Rng(seed) });
  const evaluation = make(1);
  evaluation.setFixedNoise(new Rng(2).fillNormal(new Float32Array(10 * B * 2)) as Float32Array);
  const states = tf.zeros([B, 3]) as tf.Tensor2D;
  const start = params(new Array(B * 2).fill(0), new Array(B * 2).fill(0), B);
  let now = 0;
  const optimizers: { name: string; optimizer: PolicyOptimizer; iterations: number }[] = [
    { name: "adam", optimizer: new GradientAscentOptimizer({ learningRate: 0.05, iterations: 300, initialStd: 1 }, 2), iterations: 300 },
    { name: "cem-actions", optimizer: new ActionCemOptimizer({ population: 100, elites: 10, stepSize: 0.5, iterations: 60, initialStd: 1 }, 2, new Rng(3)), iterations: 60 },
  ];
  const points = compareOptimizers({ states, start, objective: make(4), evaluation, optimizers, clock: () => (now += 250) });
  for (const { name, iterations } of optimizers) {
    const mine = points.filter((p) => p.optimizer === name);
    assert.deepEqual(mine.map((p) => p.iteration), Array.from({ length: iterations + 1 }, (_, k) => k));
    const last = mine[mine.length - 1];
    assert.ok(last.j_mean > -1e-2 && last.j_mean <= 0, `${name}: final J ${last.j_mean}`);
    assert.ok(mine[0].j_mean < -0.2, `${name}: J at the start ${mine[0].j_mean}`);
    assert.equal(last.seconds, 0.25, "the injected clock advanced 250 ms over the run");
    assert.equal(mine[0].seconds, 0);
  }
  // The μ each reaches (fresh optimizers with the same seeds).
  const cem = new ActionCemOptimizer({ population: 100, elites: 10, stepSize: 0.5, iterations: 60, initialStd: 1 }, 2, new Rng(3));
  const adam = new GradientAscentOptimizer({ learningRate: 0.05, iterations: 300, initialStd: 1 }, 2);
  for (const [name, optimizer] of [["cem-actions", cem], ["adam", adam]] as const) {
    const result = optimizer.optimize(states, make(4), { init: start });
    const mu = result.lambda.mean.dataSync();
    for (let s = 0; s < B; s++) for (let a = 0; a < 2; a++) assert.ok(Math.abs(mu[s * 2 + a] - Math.atanh(target[a])) < 0.03, `${name} μ[${s},${a}] = ${mu[s * 2 + a]}`);
    disposeOptimization(result);
  }
  assert.throws(() => new ActionCemOptimizer({ population: 10, elites: 20, stepSize: 0.5, iterations: 1, initialStd: 1 }, 2, new Rng(0)), /elites/);
  assert.throws(() => cem.optimize(states, new QuadraticObjective(start)), /scores single actions/);
  tf.dispose([states]);
  disposePolicyParams(start);
});

test("multiple estimates: the mean L2 distance between runs' tanh(μ) over pairs, exactly", async () => {
  await initBackend();
  // An optimizer whose run r returns μ = c_r everywhere: distances are |tanh c_i − tanh c_j|·√|A|.
  const constants = [0.5, -0.25, 1];
  let call = 0;
  const fixed: PolicyOptimizer = {
    kind: "gradient",
    params: null,
    optimize: (states) => {
      const c = constants[call++];
      const lambda = { mean: tf.fill([states.shape[0], 3], c) as tf.Tensor2D, logStd: tf.fill([states.shape[0], 3], -1) as tf.Tensor2D };
      return { lambda, trace: [{ lambda, terms: null }], loss: null };
    },
    dispose: () => undefined,
  };
  const states = tf.zeros([5, 2]) as tf.Tensor2D;
  const r = multipleEstimates({ states, optimizer: fixed, objective: { actionSize: 3, evaluate: () => { throw new Error("not used"); } }, runs: 3, startSpread: 1, startStd: 1, rng: new Rng(0), cloudStates: 2, cloudSamples: 4 });
  const t = constants.map(Math.tanh);
  const expected = ((Math.abs(t[0] - t[1]) + Math.abs(t[0] - t[2]) + Math.abs(t[1] - t[2])) / 3) * Math.sqrt(3);
  for (const d of r.distance) assert.ok(Math.abs(d - expected) < 1e-6);
  assert.ok(Math.abs(r.mean - expected) < 1e-6 && r.std < 1e-6);
  assert.equal(r.clouds.length, 3);
  assert.equal(r.clouds[0].length, 2 * 4 * 3);
  for (const v of r.clouds[2]) assert.ok(v > -1 && v < 1);
  tf.dispose([states]);
});

test("improvement over training: ΔJ per iteration per logged step, and its mean over steps, from the training log", () => {
  const run = (id: string, seed: number, metrics: Run["metrics"]): Run => ({ dir: `/x/${id}`, id, config: { env: "Hopper-v2", optimizer: "iterative", seed }, provenance: [], backends: [], status: null, metrics, truncatedTail: false });
  const runs = [
    run("a", 0, [{ step: 100, "train/j_improvement_iter1": 2, "train/j_improvement_iter2": 0.5 }, { step: 200, "train/j_improvement_iter1": 4, "train/j_improvement_iter2": 1.5, "train/j_improvement_iterx": 9 }]),
    run("b", 1, [{ step: 100, "train/j_improvement_iter1": 1 }]),
  ];
  const rows = improvementOverTraining(runs);
  assert.deepEqual(rows.map((r) => [r.run, r.step, r.iteration, r.value]), [["a", 100, 1, 2], ["a", 200, 1, 4], ["b", 100, 1, 1], ["a", 100, 2, 0.5], ["a", 200, 2, 1.5]]);
  assert.deepEqual(improvementByIteration(runs, 150).map((r) => [r.run, r.iteration, r.value]), [["a", 1, 4], ["a", 2, 1.5]]);
});
