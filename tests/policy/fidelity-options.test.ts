/**
 * The policy-side points where the paper and the authors' code differ, each an option that changes exactly what
 * it names: the std of Eq. 12 in J, the bounds on log σ (hard clip or soft clamp) in both amortized optimizers,
 * the iterative optimizer's state input (normalised or raw), and their networks' start ("xavier": the code's).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { ConfigError } from "../../lib/core/errors";
import { Rng } from "../../lib/core/rng";
import type { MlpBody } from "../../lib/nn/mlp";
import type { NamedWeights } from "../../lib/nn/parameters";
import { DirectAmortizedOptimizer } from "../../lib/policy/direct";
import { DEFAULT_ITERATIVE_CONFIG, IterativeAmortizedOptimizer, type IterativeOptimizerConfig } from "../../lib/policy/iterative";
import { boundLogStdValue, softClampLogStdValue } from "../../lib/policy/maths";
import { VariationalObjective, type QPair } from "../../lib/policy/objective";
import type { LogStdBounds, PolicyParams } from "../../lib/policy/params";
import { relativeError } from "../backend/compare";

const NET: MlpBody = { hiddenSizes: [32, 32], activation: "relu", layerNorm: false, connectivity: "sequential" };
const [O, A, B] = [5, 3, 16];

const tensor = (rng: Rng, rows: number, cols: number, std = 1): tf.Tensor2D => tf.tensor2d(rng.fillNormal(new Float32Array(rows * cols), 0, std) as Float32Array, [rows, cols]);
const read = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);

/** The same weights with the output layer's replaced by N(0, std²) draws (a trained-looking, non-zero head). */
function withOutput(weights: NamedWeights, rng: Rng, std: number): NamedWeights {
  const out: NamedWeights = { ...weights };
  for (const k of ["output/w", "output/b"]) out[k] = { shape: weights[k].shape, values: rng.fillNormal(new Float32Array(weights[k].values.length), 0, std) as Float32Array };
  return out;
}

test("direct policy under xavier: μ = 0 and log σ = the bounds applied to 0 for any state; hidden layers Xavier-normal", async () => {
  await initBackend();
  const states = tensor(new Rng(1), B, O, 10);
  for (const logStdBounds of ["hard-clip", "soft-clamp"] as const) {
    const policy = new DirectAmortizedOptimizer({ network: NET, init: "xavier", logStdBounds }, O, A, new Rng(2));
    const { mean, logStd } = policy.policyParams(states);
    assert.deepEqual(Array.from(read(mean)), Array(B * A).fill(0), `${logStdBounds}: μ = 0`);
    const want = Math.fround(boundLogStdValue(0, logStdBounds)); // 0, or the soft clamp's −0.4740
    read(logStd).forEach((v) => assert.ok(Math.abs(v - want) <= 1e-6, `${logStdBounds}: log σ ${v}, want ${want}`));
    const w = policy.params.toData();
    assert.ok(w["hidden0/b"].values.every((v) => v === Math.fround(0.1)), "ReLU bias 0.1");
    assert.ok(w["hidden1/w"].values.some((v) => Math.abs(v) > 1 / Math.sqrt(32)), "normal, not fan-in uniform, hidden weights");
    tf.dispose([mean, logStd]);
    policy.dispose();
  }
  const fanIn = new DirectAmortizedOptimizer({ network: NET }, O, A, new Rng(2));
  const { mean } = fanIn.policyParams(states);
  assert.ok(read(mean).some((v) => v !== 0), "the default start gives a non-zero μ");
  fanIn.dispose();
  states.dispose();
});

test("soft clamp in both amortized optimizers: log σ = softClamp(the raw value) where the hard clip passes it", async () => {
  await initBackend();
  const states = tensor(new Rng(3), B, O, 2);
  // The same network (same seed and weights) under each bound: the hard clip's unclipped values are the raw ones.
  const runs = (bounds: LogStdBounds, kind: "direct" | "iterative"): Float32Array => {
    const rng = new Rng(4);
    const opt = kind === "direct"
      ? new DirectAmortizedOptimizer({ network: NET, logStdBounds: bounds }, O, A, rng)
      : new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: NET, logStdBounds: bounds }, O, A, rng);
    // (the gated step moves log σ part way from its previous value: a larger head reaches the top of the range)
    opt.params.setData(withOutput(opt.params.toData(), new Rng(5), kind === "direct" ? 0.6 : 3));
    const lambda: PolicyParams = { mean: tensor(new Rng(6), B, A), logStd: tensor(new Rng(7), B, A, 0.5) };
    const grad: PolicyParams = { mean: tensor(new Rng(8), B, A), logStd: tensor(new Rng(9), B, A) };
    const out = opt instanceof DirectAmortizedOptimizer ? opt.policyParams(states) : opt.step(states, lambda, grad);
    const logStd = read(out.logStd);
    tf.dispose([out.mean, out.logStd, lambda.mean, lambda.logStd, grad.mean, grad.logStd]);
    opt.dispose();
    return logStd;
  };
  for (const kind of ["direct", "iterative"] as const) {
    const hard = runs("hard-clip", kind);
    const soft = runs("soft-clamp", kind);
    const inside = Array.from(hard.keys()).filter((i) => hard[i] > -20 && hard[i] < 2);
    assert.ok(inside.length > B * A * 0.8 && hard.some((v) => v > 0.6), `${kind}: raw values span the soft range's top (${Math.max(...hard)})`);
    assert.ok(relativeError(inside.map((i) => soft[i]), inside.map((i) => softClampLogStdValue(hard[i]))) <= 1e-6, `${kind}: soft = softClamp(raw)`);
    assert.ok(soft.every((v) => v > -10 && v < 0.5001), `${kind}: in the soft range`);
  }
  states.dispose();
});

/** An iterative optimizer with a non-zero output layer, and its one step on given λ, ∇λ J. */
function iterativeStep(config: Partial<IterativeOptimizerConfig>, states: tf.Tensor2D): { logStd: Float32Array; mean: Float32Array } {
  const opt = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: NET, ...config }, O, A, new Rng(10));
  const weights = opt.params.toData();
  opt.params.setData(withOutput(weights, new Rng(11), 0.3));
  const lambda: PolicyParams = { mean: tensor(new Rng(12), B, A), logStd: tensor(new Rng(13), B, A, 0.3) };
  const grad: PolicyParams = { mean: tensor(new Rng(14), B, A), logStd: tensor(new Rng(15), B, A) };
  const next = opt.step(states, lambda, grad);
  const out = { mean: read(next.mean), logStd: read(next.logStd) };
  tf.dispose([next.mean, next.logStd, lambda.mean, lambda.logStd, grad.mean, grad.logStd]);
  opt.dispose();
  return out;
}

test("iterative optimizer's state input: standardised per example (default), or raw with normalizeState false", async () => {
  await initBackend();
  const states = tensor(new Rng(16), B, O);
  // A positive affine map of each state (3s + 1) leaves its standardisation ("layer") unchanged, not the raw state.
  const moved = tf.tidy(() => tf.add(tf.mul(states, 3), 1) as tf.Tensor2D);
  const normalised = [states, moved].map((s) => iterativeStep({ inputNormalization: "layer" }, s));
  const raw = [states, moved].map((s) => iterativeStep({ inputNormalization: "layer", normalizeState: false }, s));
  assert.ok(relativeError(normalised[1].mean, normalised[0].mean) <= 1e-4, "normalised: the step ignores the state's offset and scale");
  assert.ok(relativeError(raw[1].mean, raw[0].mean) > 1e-2, `raw: the step sees them (${relativeError(raw[1].mean, raw[0].mean)})`);
  // The network's input: under "layer+scale" a normalised state has O + 2 features, a raw one O; λ and ∇λ J A + 2 each.
  const inputs = (normalizeState: boolean): number => {
    const opt = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: NET, inputNormalization: "layer+scale", normalizeState }, O, A, new Rng(1));
    const rows = opt.params.toData()["hidden0/w"].shape[0];
    opt.dispose();
    return rows;
  };
  assert.equal(inputs(true), O + 2 + 4 * (A + 2));
  assert.equal(inputs(false), O + 4 * (A + 2));
  tf.dispose([states, moved]);
});

test("iterative optimizer under xavier: output layer zero (δ = 0, ω = ½), hidden layers Xavier-normal with bias 0.1", async () => {
  await initBackend();
  const opt = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: NET, init: "xavier" }, O, A, new Rng(17));
  const w = opt.params.toData();
  for (const k of ["output/w", "output/b"]) assert.ok(w[k].values.every((v) => v === 0), `${k} zero`);
  for (const k of ["hidden0/b", "hidden1/b"]) assert.ok(w[k].values.every((v) => v === Math.fround(0.1)), `${k} = 0.1`);
  const again = new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, network: NET, init: "xavier" }, O, A, new Rng(17));
  assert.deepEqual(again.params.toData()["hidden0/w"].values, w["hidden0/w"].values, "same seed, same weights");
  [opt, again].forEach((o) => o.dispose());
});

test("J with the unbiased std of Eq. 12 at β/√2 equals J with the population std at β (same noise)", async () => {
  await initBackend();
  const q: QPair = (s, a) => [tf.sum(tf.mul(a, 2), 1) as tf.Tensor1D, tf.add(tf.sum(tf.square(a), 1), tf.sum(s, 1)) as tf.Tensor1D];
  const states = tensor(new Rng(18), B, O);
  const lambda: PolicyParams = { mean: tensor(new Rng(19), B, A, 0.5), logStd: tf.fill([B, A], -0.7) as tf.Tensor2D };
  const noise = new Rng(20).fillNormal(new Float32Array(4 * B * A)) as Float32Array;
  const j = (beta: number, pessimismStd?: "population" | "unbiased"): Float32Array => {
    const objective = new VariationalObjective({ q, alpha: 0.2, beta, pessimismStd, samples: 4, actionSize: A, rng: new Rng(0) });
    objective.setFixedNoise(noise);
    return tf.tidy(() => read(objective.evaluate(states, lambda).j));
  };
  const population = j(2);
  assert.ok(relativeError(j(2 / Math.SQRT2, "unbiased"), population) <= 1e-6, "β_unbiased = β_population/√2");
  assert.deepEqual(j(2, "population"), population, "population is the default");
  assert.ok(relativeError(j(2, "unbiased"), population) > 1e-3, "the same β under the unbiased std penalises more");
  assert.ok(j(2, "unbiased").every((v, i) => v < population[i]), "… lowering J");
  tf.dispose([states, lambda.mean, lambda.logStd]);
});

test("bad option values fail with a ConfigError naming the setting", async () => {
  await initBackend();
  const rng = new Rng(0);
  const named = (pattern: RegExp) => (e: Error): boolean => e instanceof ConfigError && pattern.test(e.message);
  assert.throws(() => new DirectAmortizedOptimizer({ network: NET, logStdBounds: "clip" as never }, O, A, rng), named(/direct\.logStdBounds must be one of hard-clip, soft-clamp/));
  assert.throws(() => new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, logStdBounds: "soft" as never }, O, A, rng), named(/iterative\.logStdBounds/));
  assert.throws(() => new IterativeAmortizedOptimizer({ ...DEFAULT_ITERATIVE_CONFIG, normalizeState: "yes" as never }, O, A, rng), named(/iterative\.normalizeState must be a boolean/));
  assert.throws(() => new DirectAmortizedOptimizer({ network: NET, init: "he" as never }, O, A, rng), named(/init must be one of fan-in-uniform, xavier/));
  const q: QPair = (s) => [tf.sum(s, 1) as tf.Tensor1D, tf.sum(s, 1) as tf.Tensor1D];
  assert.throws(() => new VariationalObjective({ q, alpha: 1, beta: 1, pessimismStd: "sample" as never, samples: 1, actionSize: A, rng }), named(/pessimismStd must be one of population, unbiased/));
});
