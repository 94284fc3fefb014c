/**
 * The policy maths' one home (lib/policy/maths.ts): each function against hand-computed values and its
 * gradients against central finite differences; then each other form of the same maths against it on random
 * inputs: the tf ops the tfjs path differentiates (objective.ts, iterative.ts, params.ts, input-normalization.ts,
 * tanh-gaussian.ts) and the native addon's tanh-Gaussian kernels.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend, useBackend } from "../../lib/backend/select";
import { nativeForTests } from "../backend/native-available";
import { asWasmBackend, heapOf, offsetOf } from "../../lib/backend/wasm-heap";
import { Rng } from "../../lib/core/rng";
import {
  boundLogStdGrad, boundLogStdValue, clipLogStdValue, copyRow, gatedGradDelta, gatedGradGateLogit, gatedUpdateValue, logDensityGradLogStd,
  logDensityGradMean, logDensityGradU, logStdInRange, normalizeRow, pessimisticQGradQ1, pessimisticQGradQ2, pessimisticQValue,
  reparameterizedGradLogStd, reparameterizedGradMean, sigmoid, softClampLogStdGrad, softClampLogStdValue, tanhGaussianAction,
  tanhGaussianLogDensity,
} from "../../lib/policy/maths";
import { pessimisticQ } from "../../lib/policy/objective";
import { gatedUpdate } from "../../lib/policy/iterative";
import { normalizeInput } from "../../lib/policy/input-normalization";
import { boundLogStd, clipLogStd } from "../../lib/policy/params";
import { sampleTanhGaussian, tanhGaussianLogProb } from "../../lib/policy/tanh-gaussian";
import { relativeError } from "../backend/compare";

/** Central difference of f at x (double precision). */
function fd(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

const close = (got: number, want: number, tol: number, what: string): void => {
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
};

test("Eq. 12: pessimistic Q and its gradients, by hand and by finite differences", () => {
  assert.equal(pessimisticQValue(1, 4, 1), 1, "β = 1 is min(Q1, Q2)");
  assert.equal(pessimisticQValue(5, 2, 0), 3.5, "β = 0 is the mean");
  assert.equal(pessimisticQValue(1, 4, 2.5), 2.5 - 3.75, "mean − β·|Q1 − Q2|/2");
  assert.equal(pessimisticQValue(3, 3, 2.5), 3, "no spread: the common value");
  // ∂/∂Q1 = ½ − ½β·s, ∂/∂Q2 = ½ + ½β·s, s = +1 where Q1 > Q2, −1 otherwise (ties included, as tf's |x|')
  assert.deepEqual([pessimisticQGradQ1(1, 4, 1), pessimisticQGradQ2(1, 4, 1)], [1, 0], "β = 1, Q1 the min");
  assert.deepEqual([pessimisticQGradQ1(5, 2, 2.5), pessimisticQGradQ2(5, 2, 2.5)], [-0.75, 1.75]);
  assert.deepEqual([pessimisticQGradQ1(3, 3, 2.5), pessimisticQGradQ2(3, 3, 2.5)], [1.75, -0.75], "a tie takes s = −1");
  const rng = new Rng(1);
  for (let i = 0; i < 20; i++) {
    const [q1, q2, beta] = [rng.normal() * 3, rng.normal() * 3, rng.uniform(0, 3)];
    close(pessimisticQGradQ1(q1, q2, beta), fd((x) => pessimisticQValue(x, q2, beta), q1), 1e-6, "∂/∂Q1");
    close(pessimisticQGradQ2(q1, q2, beta), fd((x) => pessimisticQValue(q1, x, beta), q2), 1e-6, "∂/∂Q2");
  }
});

test("Eq. 12 with the unbiased std (the authors' code): the penalty √2 larger; β/√2 gives the population values", () => {
  // Q1 = 1, Q2 = 4: mean 2.5, |Q1 − Q2| = 3; unbiased std 3/√2 = 2.1213203435596424
  close(pessimisticQValue(1, 4, 1, "unbiased"), 0.3786796564403576, 1e-15, "β = 1: mean − 3/√2");
  close(pessimisticQValue(6, 2, 2.5, "unbiased"), 4 - 2.5 * 4 / Math.SQRT2, 1e-15, "β = 2.5");
  assert.equal(pessimisticQValue(3, 3, 2.5, "unbiased"), 3, "no spread: the common value");
  assert.equal(pessimisticQValue(1, 4, 1), pessimisticQValue(1, 4, 1, "population"), "population is the default");
  // ∂/∂Q1 = ½ − β/√2·s: Q1 = 5 > Q2 = 2, β = 1
  close(pessimisticQGradQ1(5, 2, 1, "unbiased"), 0.5 - Math.SQRT1_2, 1e-15, "∂/∂Q1");
  close(pessimisticQGradQ2(5, 2, 1, "unbiased"), 0.5 + Math.SQRT1_2, 1e-15, "∂/∂Q2");
  const rng = new Rng(7);
  for (let i = 0; i < 20; i++) {
    const [q1, q2, beta] = [rng.normal() * 3, rng.normal() * 3, rng.uniform(0.1, 3)];
    const mean = (q1 + q2) / 2;
    // the penalty mean − Q_pess scales by exactly √2 …
    close((mean - pessimisticQValue(q1, q2, beta, "unbiased")) / (mean - pessimisticQValue(q1, q2, beta)), Math.SQRT2, 1e-12, "penalty ratio");
    // … so β_unbiased = β_population/√2 gives the same values and gradients
    close(pessimisticQValue(q1, q2, beta / Math.SQRT2, "unbiased"), pessimisticQValue(q1, q2, beta), 1e-12, "β/√2 value");
    close(pessimisticQGradQ1(q1, q2, beta / Math.SQRT2, "unbiased"), pessimisticQGradQ1(q1, q2, beta), 1e-12, "β/√2 ∂/∂Q1");
    close(pessimisticQGradQ1(q1, q2, beta, "unbiased"), fd((x) => pessimisticQValue(x, q2, beta, "unbiased"), q1), 1e-6, "∂/∂Q1 by differences");
    close(pessimisticQGradQ2(q1, q2, beta, "unbiased"), fd((x) => pessimisticQValue(q1, x, beta, "unbiased"), q2), 1e-6, "∂/∂Q2 by differences");
  }
});

test("the soft clamp of log σ (the authors' code): values by hand, limits, slope by hand and by finite differences", () => {
  // y = 0.5 − softplus(0.5 − x), then −10 + softplus(y + 10); at x = 0: y = 0.5 − log(1 + e^0.5) = −0.4740769841801067
  close(softClampLogStdValue(0), -10 + Math.log(1 + Math.exp(0.5 - Math.log(1 + Math.exp(0.5)) + 10)), 1e-14, "x = 0, the formula");
  const table: Array<[number, number, number]> = [
    // [x, value, slope] from the textbook formulas in double
    [0, -0.4740040504607226, 0.6224139345831571],
    [-10, -9.30686658738039, 0.49997934832644203],
    [3, 0.4211400620422925, 0.07585591975918508],
    [-5, -4.997335743003516, 0.9892371944186878],
    [-25, -9.999999694097726, 3.059022269204712e-7],
  ];
  for (const [x, value, slope] of table) {
    close(softClampLogStdValue(x), value, 1e-13, `value at ${x}`);
    close(softClampLogStdGrad(x), slope, 1e-12, `slope at ${x}`);
  }
  close(softClampLogStdGrad(0), sigmoid(0.5) * sigmoid(0.5 - Math.log(1 + Math.exp(0.5)) + 10), 1e-15, "slope at 0: σ(hi − x)·σ(y − lo)");
  // into (−10, −10 + softplus(10.5)) = (−10, 0.50003): far outside it sits at a bound, with a vanishing (never
  // zero) slope; no overflow
  const top = -10 + Math.log(1 + Math.exp(10.5));
  close(softClampLogStdValue(60), top, 1e-12, "x → ∞");
  close(softClampLogStdValue(-60), -10, 1e-12, "x → −∞");
  assert.ok(softClampLogStdGrad(-30) > 0 && softClampLogStdGrad(30) > 0, "a gradient flows everywhere");
  const rng = new Rng(8);
  for (let i = 0; i < 30; i++) {
    const x = rng.normal() * 8;
    const y = softClampLogStdValue(x);
    assert.ok(y > -10 && y < top, `in range: ${y}`);
    close(softClampLogStdGrad(x), fd(softClampLogStdValue, x), 1e-6, `slope at ${x}`);
    assert.equal(boundLogStdValue(x, "soft-clamp"), y);
    assert.equal(boundLogStdGrad(x, "soft-clamp"), softClampLogStdGrad(x));
    assert.equal(boundLogStdValue(x, "hard-clip"), clipLogStdValue(x));
    assert.equal(boundLogStdGrad(x, "hard-clip"), logStdInRange(x) ? 1 : 0);
  }
});

test("Eq. 11: the gated update, its backward, and the clip of log σ, by hand and by finite differences", () => {
  assert.equal(sigmoid(0), 0.5);
  assert.equal(gatedUpdateValue(2, -1, 0.25), 0.25 * 2 + 0.75 * -1);
  assert.equal(gatedGradDelta(0.25, 2), 1.5);
  assert.equal(gatedGradGateLogit(2, -1, 0.25, 2), 3 * 2 * 0.25 * 0.75);
  const rng = new Rng(2);
  for (let i = 0; i < 20; i++) {
    const [previous, delta, logit, upstream] = [rng.normal(), rng.normal(), rng.normal() * 2, rng.normal()];
    const gate = sigmoid(logit);
    close(gatedGradDelta(gate, upstream), upstream * fd((d) => gatedUpdateValue(previous, d, gate), delta), 1e-6, "∂/∂δ");
    close(gatedGradGateLogit(previous, delta, gate, upstream), upstream * fd((x) => gatedUpdateValue(previous, delta, sigmoid(x)), logit), 1e-6, "∂/∂ gate logit");
  }
  assert.deepEqual([-25, 3, 0.5, -20, 2].map(clipLogStdValue), [-20, 2, 0.5, -20, 2]);
  assert.deepEqual([-20.5, -20, 0, 2, 2.0001].map(logStdInRange), [false, true, true, true, false]);
});

test("input normalisation of one row, by hand: layer and layer+scale, 3-D and 1-D", () => {
  const out = new Float32Array(8).fill(Number.NaN);
  // x = (1, 2, 3): m = 2, var = 2/3, std = sqrt(2/3 + 1e-10); (x − m)/(std + 1e-5)
  assert.equal(normalizeRow([9, 1, 2, 3], 1, 3, out, 2, false), 5, "returns the next free index");
  [-1.224729871483445, 0, 1.224729871483445].forEach((v, i) => close(out[2 + i], v, 1e-6, `layer ${i}`));
  assert.ok(Number.isNaN(out[5]), "writes nothing past its row");
  assert.equal(normalizeRow([1, 2, 3], 0, 3, out, 0, true), 5);
  // then sign(m)·log(1 + |m|) = log 3 and log(std + 1e-8)
  [-1.224729871483445, 0, 1.224729871483445, Math.log(3), -0.2027325417316335].forEach((v, i) => close(out[i], v, 1e-6, `layer+scale ${i}`));
  // a 1-D input standardises to 0; its mean and scale are what "layer+scale" keeps (std = sqrt(1e-10))
  assert.equal(normalizeRow([-5], 0, 1, out, 0, true), 3);
  [0, -Math.log(6), Math.log(1e-5 + 1e-8)].forEach((v, i) => close(out[i], v, 1e-6, `1-D ${i}`));
  // a raw input (the state with normalizeStateInput off) is copied as it is
  assert.equal(copyRow([9, 1.5, -2, 30], 1, 3, out, 4), 7);
  assert.deepEqual(Array.from(out.subarray(4, 7)), [1.5, -2, 30]);
});

test("tanh-Gaussian: action, log-density by hand (and where tanh saturates), gradients by finite differences", () => {
  // μ = 0.3, σ = 0.5, ε = 0.8: u = 0.7, a = tanh 0.7 (float32 steps)
  close(tanhGaussianAction(0.3, Math.log(0.5), 0.8), 0.6043677771171636, 1e-7, "a");
  // log N(u; μ, σ) − log(1 − tanh² u), the textbook way: −log(1 − tanh² u) = 2 log cosh u
  const textbook = (u: number, m: number, s: number): number => -0.5 * ((u - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI) + 2 * Math.log(Math.cosh(u));
  close(tanhGaussianLogDensity(0.7, 0.3, Math.log(0.5)), -(0.32 + Math.log(0.5) + 0.5 * Math.log(2 * Math.PI)) - Math.log(1 - Math.tanh(0.7) ** 2), 1e-12, "hand");
  for (const [u, m, s] of [[12, 0, 1], [-30, -29, 2], [0, 0.2, 0.1]]) close(tanhGaussianLogDensity(u, m, Math.log(s)), textbook(u, m, s), 1e-12, `u = ${u}`);
  const rng = new Rng(3);
  for (let i = 0; i < 20; i++) {
    const [mean, logStd, eps] = [rng.normal(), rng.uniform(-1.5, 0.5), rng.normal()];
    const sigma = Math.exp(logStd);
    const u = mean + sigma * eps;
    const a = Math.tanh(u);
    close(logDensityGradU(eps, sigma, a), fd((x) => tanhGaussianLogDensity(x, mean, logStd), u), 1e-5, "∂ log π/∂u");
    close(logDensityGradMean(eps, sigma), fd((x) => tanhGaussianLogDensity(u, x, logStd), mean), 1e-5, "∂ log π/∂μ");
    close(logDensityGradLogStd(eps), fd((x) => tanhGaussianLogDensity(u, mean, x), logStd), 1e-5, "∂ log π/∂log σ");
    // g(a) + c·log π(a) through the reparameterisation, g(a) = 3a − a²
    const c = rng.normal();
    const f = (m: number, l: number): number => {
      const uu = m + Math.exp(l) * eps;
      const aa = Math.tanh(uu);
      return 3 * aa - aa * aa + c * tanhGaussianLogDensity(uu, m, l);
    };
    close(reparameterizedGradMean(3 - 2 * a, a, eps, sigma, c), fd((m) => f(m, logStd), mean), 1e-5, "reparameterised ∂/∂μ");
    close(reparameterizedGradLogStd(3 - 2 * a, a, eps, sigma, c), fd((l) => f(mean, l), logStd), 1e-5, "reparameterised ∂/∂log σ");
  }
});

/** [rows, cols] random values, some far out (clips, tails). */
const randomRows = (rng: Rng, n: number, scale = 1): Float32Array => rng.fillNormal(new Float32Array(n), 0, scale) as Float32Array;

test("the tfjs path's tf ops equal the one home on random inputs (values and autodiff gradients)", async () => {
  await initBackend();
  const rng = new Rng(4);
  const n = 64;
  const q1 = randomRows(rng, n, 3);
  const q2 = Float32Array.from(randomRows(rng, n, 3), (v, i) => (i % 8 === 0 ? q1[i] : v)); // with ties
  for (const std of ["population", "unbiased"] as const) for (const beta of [0, 1, 2.5]) {
    const [value, g1, g2] = tf.tidy(() => {
      const [a, b] = [tf.tensor1d(q1), tf.tensor1d(q2)];
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(pessimisticQ(x, y, beta, std)))([a, b]);
      return [pessimisticQ(a, b, beta, std), ...grads].map((t) => t.dataSync() as Float32Array);
    });
    const what = `${std} std, β = ${beta}`;
    assert.ok(relativeError(value, Array.from(q1, (v, i) => pessimisticQValue(v, q2[i], beta, std))) <= 1e-6, `pessimisticQ ${what}`);
    const want = [pessimisticQGradQ1, pessimisticQGradQ2].map((f) => Array.from(q1, (v, i) => f(v, q2[i], beta, std)));
    if (std === "population") {
      assert.deepEqual(Array.from(g1), want[0], `tf's ∂/∂Q1, ${what}`);
      assert.deepEqual(Array.from(g2), want[1], `tf's ∂/∂Q2, ${what}`);
    } else {
      // 1/√2·β is rounded to float32 before tf's subtraction: equal to float32 rounding
      assert.ok(relativeError(g1, want[0]) <= 1e-6 && relativeError(g2, want[1]) <= 1e-6, `tf's ∂/∂Q1, Q2, ${what}`);
    }
  }

  const [previous, delta, logits, upstream] = [randomRows(rng, n), randomRows(rng, n), randomRows(rng, n, 2), randomRows(rng, n)];
  const [gated, dDelta, dLogit] = tf.tidy(() => {
    const [p, d, x, up] = [previous, delta, logits, upstream].map((v) => tf.tensor1d(v));
    const f = (dd: tf.Tensor, xx: tf.Tensor): tf.Scalar => tf.sum(tf.mul(up, gatedUpdate(p, dd, tf.sigmoid(xx))));
    return [gatedUpdate(p, d, tf.sigmoid(x)), ...tf.grads(f)([d, x])].map((t) => t.dataSync() as Float32Array);
  });
  const gate = Array.from(logits, sigmoid);
  assert.ok(relativeError(gated, gate.map((g, i) => gatedUpdateValue(previous[i], delta[i], g))) <= 1e-6, "gatedUpdate");
  assert.ok(relativeError(dDelta, gate.map((g, i) => gatedGradDelta(g, upstream[i]))) <= 1e-5, "tf's ∂/∂δ");
  assert.ok(relativeError(dLogit, gate.map((g, i) => gatedGradGateLogit(previous[i], delta[i], g, upstream[i]))) <= 1e-5, "tf's ∂/∂ gate logit");
  const wide = randomRows(rng, n, 15);
  assert.deepEqual(Array.from(tf.tidy(() => clipLogStd(tf.tensor2d(wide, [8, 8])).dataSync())), Array.from(wide, (v) => Math.fround(clipLogStdValue(v))), "clipLogStd");
  for (const bounds of ["hard-clip", "soft-clamp"] as const) {
    const [bounded, slope] = tf.tidy(() => {
      const x = tf.tensor2d(wide, [8, 8]);
      return [boundLogStd(x, bounds), tf.grad((v: tf.Tensor) => tf.sum(boundLogStd(v as tf.Tensor2D, bounds)))(x)].map((t) => t.dataSync() as Float32Array);
    });
    assert.ok(relativeError(bounded, Array.from(wide, (v) => boundLogStdValue(v, bounds))) <= 1e-6, `boundLogStd ${bounds}: ${relativeError(bounded, Array.from(wide, (v) => boundLogStdValue(v, bounds)))}`);
    assert.ok(relativeError(slope, Array.from(wide, (v) => boundLogStdGrad(v, bounds))) <= 1e-5, `tf's slope of boundLogStd ${bounds}`);
  }

  for (const [rows, cols] of [[8, 5], [8, 1]]) for (const mode of ["layer", "layer+scale"] as const) {
    const x = Float32Array.from(randomRows(rng, rows * cols), (v, i) => v + (i % cols === 0 ? 2 : 0));
    const width = mode === "layer" ? cols : cols + 2;
    const want = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) normalizeRow(x, r * cols, cols, want, r * width, mode === "layer+scale");
    const got = tf.tidy(() => normalizeInput(tf.tensor2d(x, [rows, cols]), mode).dataSync());
    assert.ok(relativeError(got, want) <= 1e-5, `normalizeInput ${mode}, ${cols} columns: ${relativeError(got, want)}`);
  }

  // log π and its gradient through the reparameterisation: Σ_{n,s} [w·a + c·log π(a)], w fixed per entry
  const [N, B, A] = [3, 4, 2];
  const mean = randomRows(rng, B * A);
  const logStd = Float32Array.from(randomRows(rng, B * A, 0.5), (v) => v - 0.5);
  const eps = randomRows(rng, N * B * A);
  const w = randomRows(rng, N * B * A);
  const c = -0.7;
  const [action, logPi, gMean, gLogStd] = tf.tidy(() => {
    const noise = tf.tensor3d(eps, [N, B, A]);
    const f = (m: tf.Tensor, l: tf.Tensor): tf.Scalar => {
      const lambda = { mean: m as tf.Tensor2D, logStd: l as tf.Tensor2D };
      const { u, action: a } = sampleTanhGaussian(lambda, noise);
      return tf.add(tf.sum(tf.mul(a, tf.tensor3d(w, [N, B, A]))), tf.mul(c, tf.sum(tanhGaussianLogProb(lambda, u)))) as tf.Scalar;
    };
    const lambda = { mean: tf.tensor2d(mean, [B, A]), logStd: tf.tensor2d(logStd, [B, A]) };
    const { u, action: a } = sampleTanhGaussian(lambda, noise);
    return [a, tanhGaussianLogProb(lambda, u), ...tf.grads(f)([lambda.mean, lambda.logStd])].map((t) => t.dataSync() as Float32Array);
  });
  const wantAction: number[] = [];
  const wantLogPi: number[] = [];
  const wantGrad = { mean: new Float64Array(B * A), logStd: new Float64Array(B * A) };
  for (let r = 0; r < N * B; r++) {
    let lp = 0;
    for (let i = 0; i < A; i++) {
      const [p, e] = [(r % B) * A + i, r * A + i];
      const sigma = Math.exp(logStd[p]);
      const u = mean[p] + sigma * eps[e];
      const a = Math.tanh(u);
      wantAction.push(tanhGaussianAction(mean[p], logStd[p], eps[e]));
      lp += tanhGaussianLogDensity(u, mean[p], logStd[p]);
      wantGrad.mean[p] += reparameterizedGradMean(w[e], a, eps[e], sigma, c);
      wantGrad.logStd[p] += reparameterizedGradLogStd(w[e], a, eps[e], sigma, c);
    }
    wantLogPi.push(lp);
  }
  assert.ok(relativeError(action, wantAction) <= 1e-6, "sampleTanhGaussian's action");
  assert.ok(relativeError(logPi, wantLogPi) <= 1e-5, `tanhGaussianLogProb: ${relativeError(logPi, wantLogPi)}`);
  assert.ok(relativeError(gMean, wantGrad.mean) <= 1e-4, `tf's ∂/∂μ: ${relativeError(gMean, wantGrad.mean)}`);
  assert.ok(relativeError(gLogStd, wantGrad.logStd) <= 1e-4, `tf's ∂/∂log σ: ${relativeError(gLogStd, wantGrad.logStd)}`);
});

test("log π with the ε that drew u keeps its gradients at small σ, where z recomputed from u loses them in float32", async () => {
  await initBackend();
  const rng = new Rng(5);
  const [N, B, A] = [2, 3, 2];
  const mean = randomRows(rng, B * A, 0.5);
  const eps = randomRows(rng, N * B * A);
  const w = randomRows(rng, N * B * A);
  const c = -0.7;
  for (const level of [-1, -12, -15]) {
    const logStd = new Float32Array(B * A).fill(level);
    const [logPi, gMean, gLogStd] = tf.tidy(() => {
      const noise = tf.tensor3d(eps, [N, B, A]);
      const f = (m: tf.Tensor, l: tf.Tensor): tf.Scalar => {
        const lambda = { mean: m as tf.Tensor2D, logStd: l as tf.Tensor2D };
        const { u, action: a } = sampleTanhGaussian(lambda, noise);
        return tf.add(tf.sum(tf.mul(a, tf.tensor3d(w, [N, B, A]))), tf.mul(c, tf.sum(tanhGaussianLogProb(lambda, u, noise)))) as tf.Scalar;
      };
      const lambda = { mean: tf.tensor2d(mean, [B, A]), logStd: tf.tensor2d(logStd, [B, A]) };
      return [tanhGaussianLogProb(lambda, sampleTanhGaussian(lambda, noise).u, noise), ...tf.grads(f)([lambda.mean, lambda.logStd])].map((t) => t.dataSync() as Float32Array);
    });
    const want = { logPi: new Float64Array(N * B), mean: new Float64Array(B * A), logStd: new Float64Array(B * A) };
    for (let r = 0; r < N * B; r++) {
      for (let i = 0; i < A; i++) {
        const [p, e] = [(r % B) * A + i, r * A + i];
        const sigma = Math.exp(level);
        const u = mean[p] + sigma * eps[e];
        want.logPi[r] += tanhGaussianLogDensity(u, mean[p], level);
        want.mean[p] += reparameterizedGradMean(w[e], Math.tanh(u), eps[e], sigma, c);
        want.logStd[p] += reparameterizedGradLogStd(w[e], Math.tanh(u), eps[e], sigma, c);
      }
    }
    assert.ok(relativeError(logPi, want.logPi) <= 1e-5, `log σ = ${level}: log π ${relativeError(logPi, want.logPi)}`);
    assert.ok(relativeError(gMean, want.mean) <= 1e-4, `log σ = ${level}: ∂/∂μ ${relativeError(gMean, want.mean)}`);
    assert.ok(relativeError(gLogStd, want.logStd) <= 1e-4, `log σ = ${level}: ∂/∂log σ ${relativeError(gLogStd, want.logStd)}`);
  }
});

const { native, skip: nativeSkip } = nativeForTests();

test("the addon's tanh-Gaussian kernels equal the one home on random inputs", { skip: nativeSkip }, async () => {
  if (!native.ok) return;
  const { tanhGaussianSample, tanhGaussianGrad } = native.addon;
  await useBackend("wasm-native");
  const backend = asWasmBackend(tf.backend());
  const rng = new Rng(5);
  const [N, B, A] = [4, 5, 3];
  const rows = N * B;
  const mean = Float32Array.from(randomRows(rng, B * A), (v, i) => (i === 4 ? 9.5 : v)); // one sample row far in the tail
  const logStd = Float32Array.from(randomRows(rng, B * A, 0.6), (v) => v - 0.4);
  const eps = randomRows(rng, rows * A);
  const dx = [randomRows(rng, rows * A), randomRows(rng, rows * A)];
  const c = -0.3;
  const [x, d1, d2] = [tf.zeros([rows * A]), tf.tensor1d(dx[0]), tf.tensor1d(dx[1])];
  const sigma = new Float64Array(B * A);
  const logPi = new Float64Array(rows);
  const grad = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
  tanhGaussianSample.call(native.addon, heapOf(backend), offsetOf(backend, x), rows, B, A, mean, logStd, eps, sigma, logPi);
  tanhGaussianGrad.call(native.addon, heapOf(backend), offsetOf(backend, x), offsetOf(backend, d1), offsetOf(backend, d2), rows, B, A, eps, sigma, c, grad.mean, grad.logStd);
  const actions = Float32Array.from(x.dataSync());
  tf.dispose([x, d1, d2]);
  const want = { mean: new Float64Array(B * A), logStd: new Float64Array(B * A) };
  for (let r = 0; r < rows; r++) {
    let lp = 0;
    for (let i = 0; i < A; i++) {
      const [p, e] = [(r % B) * A + i, r * A + i];
      const u = mean[p] + sigma[p] * eps[e];
      close(actions[e], Math.fround(Math.tanh(u)), 1.2e-7, `action ${e}`);
      lp += tanhGaussianLogDensity(u, mean[p], logStd[p]);
      want.mean[p] += reparameterizedGradMean(dx[0][e] + dx[1][e], actions[e], eps[e], sigma[p], c);
      want.logStd[p] += reparameterizedGradLogStd(dx[0][e] + dx[1][e], actions[e], eps[e], sigma[p], c);
    }
    close(logPi[r], lp, 1e-10, `log π of row ${r}`);
  }
  assert.ok(relativeError(grad.mean, want.mean) <= 1e-5, `∂/∂μ: ${relativeError(grad.mean, want.mean)}`);
  assert.ok(relativeError(grad.logStd, want.logStd) <= 1e-5, `∂/∂log σ: ${relativeError(grad.logStd, want.logStd)}`);
});
