/**
 * The native kernels for J's action samples (tanhGaussianSample, tanhGaussianGrad): tanh-squashed samples and
 * their log-density against a hand-computed case and the textbook formula, the gradient against central
 * finite differences, and bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { asWasmBackend, heapOf, offsetOf } from "../../lib/backend/wasm-heap";
import { Rng } from "../../lib/core/rng";
import { nativeForTests } from "./native-available";

const { native, skip } = nativeForTests();

/**
 * log π of one tanh-squashed sample row, the textbook way: Σ_i log N(u_i; μ_i, σ_i) − log(1 − tanh² u_i)
 * (no shared exp, no softplus), in double.
 */
function logDensity(mean: number[], logStd: number[], eps: number[]): number {
  let lp = 0;
  for (let i = 0; i < mean.length; i++) {
    const sigma = Math.exp(logStd[i]);
    const u = mean[i] + sigma * eps[i];
    const gaussian = -0.5 * ((u - mean[i]) / sigma) ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
    lp += gaussian - Math.log(1 - Math.tanh(u) ** 2);
  }
  return lp;
}

/** logDensity of sample row r (row r = n·B + s): state s's mean and log σ, and row r's ε. */
function rowLogDensity(r: number, B: number, A: number, mean: Float32Array | Float64Array, logStd: Float32Array | Float64Array, eps: Float32Array): number {
  const s = r % B;
  return logDensity(Array.from(mean.subarray(s * A, s * A + A)), Array.from(logStd.subarray(s * A, s * A + A)), Array.from(eps.subarray(r * A, r * A + A)));
}

interface Samples {
  x: Float32Array;
  sigma: Float64Array;
  logPi: Float64Array;
}

/** Runs tanhGaussianSample on fresh heap memory; `heapRows` regions for dx are made too (gradient case). */
function sample(B: number, A: number, mean: Float32Array, logStd: Float32Array, eps: Float32Array): Samples {
  if (!native.ok) throw new Error("unreachable");
  const rows = eps.length / A;
  const backend = asWasmBackend(tf.backend());
  const x = tf.zeros([rows * A]);
  const sigma = new Float64Array(B * A);
  const logPi = new Float64Array(rows);
  native.addon.tanhGaussianSample?.(heapOf(backend), offsetOf(backend, x), rows, B, A, mean, logStd, eps, sigma, logPi);
  const out = { x: x.dataSync() as Float32Array, sigma, logPi };
  x.dispose();
  return out;
}

test("tanhGaussianSample: a hand-computed sample, and every row against the textbook log-density", { skip }, async () => {
  await useBackend("wasm-native");
  // μ = 0.3, σ = 0.5, ε = 0.8: u = 0.7, x = tanh 0.7, log π = −(0.32 + log 0.5 + ½ log 2π) − log(1 − tanh² 0.7)
  const one = sample(1, 1, Float32Array.of(0.3), Float32Array.of(Math.log(0.5)), Float32Array.of(0.8));
  const u = Math.fround(0.3) + Math.exp(Math.fround(Math.log(0.5))) * Math.fround(0.8);
  assert.equal(one.x[0], Math.fround(Math.tanh(u)));
  assert.ok(Math.abs(one.x[0] - 0.6043678) < 1e-6);
  const want = -(0.5 * Math.fround(0.8) ** 2 + Math.fround(Math.log(0.5)) + 0.5 * Math.log(2 * Math.PI)) - Math.log(1 - Math.tanh(u) ** 2);
  assert.ok(Math.abs(one.logPi[0] - want) <= 1e-12 * Math.abs(want), `log π ${one.logPi[0]} against ${want}`);
  assert.equal(one.sigma[0], Math.exp(Math.fround(Math.log(0.5))));

  // B = 3 states, A = 2, N = 2 samples each (row r is sample ⌊r/B⌋ of state r mod B); one far in the tail (|u| > 9).
  const rng = new Rng(41);
  const B = 3;
  const A = 2;
  const mean = Float32Array.from([0.2, -0.7, 1.1, 0.05, -0.4, 9.5]);
  const logStd = Float32Array.from([-0.3, 0.2, -1.2, 0.4, -0.8, -2]);
  const eps = rng.fillNormal(new Float32Array(2 * B * A)) as Float32Array;
  const got = sample(B, A, mean, logStd, eps);
  for (let r = 0; r < 2 * B; r++) {
    const s = r % B;
    const m = Array.from(mean.subarray(s * A, s * A + A));
    const l = Array.from(logStd.subarray(s * A, s * A + A));
    const e = Array.from(eps.subarray(r * A, r * A + A));
    const want = rowLogDensity(r, B, A, mean, logStd, eps);
    assert.ok(Math.abs(got.logPi[r] - want) <= 1e-9 * Math.max(1, Math.abs(want)), `row ${r}: log π ${got.logPi[r]} against ${want}`);
    for (let i = 0; i < A; i++) assert.equal(got.x[r * A + i], Math.fround(Math.tanh(m[i] + Math.exp(l[i]) * e[i])), `row ${r}, action ${i}`);
  }
});

test("tanhGaussianSample: the same bits on one thread and two (J's size at N = 10: rows run in chunks on both)", { skip }, async () => {
  await useBackend("wasm-native");
  if (!native.ok) return;
  const rng = new Rng(43);
  const B = 256;
  const A = 6;
  const mean = Float32Array.from(rng.fillUniform(new Float32Array(B * A), -2, 2));
  const logStd = Float32Array.from(rng.fillUniform(new Float32Array(B * A), -3, 1));
  const eps = rng.fillNormal(new Float32Array(10 * B * A)) as Float32Array;
  const threads = native.addon.blasInfo().threads;
  try {
    native.addon.setThreads(1);
    const one = sample(B, A, mean, logStd, eps);
    native.addon.setThreads(2);
    const two = sample(B, A, mean, logStd, eps);
    assert.deepEqual(two, one);
    const r = 10 * B - 1; // the last row: written by the last chunk
    const want = rowLogDensity(r, B, A, mean, logStd, eps);
    assert.ok(Math.abs(two.logPi[r] - want) <= 1e-9 * Math.max(1, Math.abs(want)));
  } finally {
    native.addon.setThreads(threads);
  }
});

test("tanhGaussianGrad: ∇λ of Σ w·x + c·log π against central differences", { skip }, async () => {
  await useBackend("wasm-native");
  if (!native.ok) return;
  const rng = new Rng(42);
  const B = 2;
  const A = 3;
  const N = 3;
  const rows = N * B;
  const mean = Float32Array.from(rng.fillUniform(new Float32Array(B * A), -1, 1));
  const logStd = Float32Array.from(rng.fillUniform(new Float32Array(B * A), -1, 0.5));
  const eps = rng.fillNormal(new Float32Array(rows * A)) as Float32Array;
  const w1 = rng.fillNormal(new Float32Array(rows * A)) as Float32Array; // d Q-part / dx, split over two networks
  const w2 = rng.fillNormal(new Float32Array(rows * A)) as Float32Array;
  const c = -0.37; // dLogPi: −α/N in J
  // The objective in double, ε fixed: Σ_e (w1 + w2)_e tanh(u_e) + c·Σ_r log π_r.
  const objective = (m: Float64Array, l: Float64Array): number => {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const s = r % B;
      const e = Array.from(eps.subarray(r * A, r * A + A));
      total += c * rowLogDensity(r, B, A, m, l, eps);
      for (let i = 0; i < A; i++) total += (w1[r * A + i] + w2[r * A + i]) * Math.tanh(m[s * A + i] + Math.exp(l[s * A + i]) * e[i]);
    }
    return total;
  };
  const backend = asWasmBackend(tf.backend());
  const x = tf.zeros([rows * A]);
  const dx1 = tf.tensor1d(w1);
  const dx2 = tf.tensor1d(w2);
  const sigma = new Float64Array(B * A);
  const logPi = new Float64Array(rows);
  const heap = heapOf(backend);
  native.addon.tanhGaussianSample?.(heap, offsetOf(backend, x), rows, B, A, mean, logStd, eps, sigma, logPi);
  const gradMean = Float32Array.from({ length: B * A }, () => 0.25); // the kernel adds to what is there
  const gradLogStd = new Float32Array(B * A);
  native.addon.tanhGaussianGrad?.(heap, offsetOf(backend, x), offsetOf(backend, dx1), offsetOf(backend, dx2), rows, B, A, eps, sigma, c, gradMean, gradLogStd);
  const h = 1e-6;
  for (let p = 0; p < B * A; p++) {
    for (const [which, grad, offset] of [["μ", gradMean, 0.25], ["log σ", gradLogStd, 0]] as const) {
      const m = Float64Array.from(mean);
      const l = Float64Array.from(logStd);
      const v = which === "μ" ? m : l;
      v[p] += h;
      const up = objective(m, l);
      v[p] -= 2 * h;
      const down = objective(m, l);
      const fd = (up - down) / (2 * h);
      const got = grad[p] - offset;
      assert.ok(Math.abs(got - fd) <= 1e-4 * Math.max(1, Math.abs(fd)), `d/d${which}[${p}]: ${got} against finite differences ${fd}`);
    }
  }
  tf.dispose([x, dx1, dx2]);
});

test("the tanh-Gaussian kernels name a wrong array and refuse rows that are not N·B", { skip }, async () => {
  await useBackend("wasm-native");
  if (!native.ok) return;
  const backend = asWasmBackend(tf.backend());
  const x = tf.zeros([12]);
  const heap = heapOf(backend);
  const f32 = (n: number): Float32Array => new Float32Array(n);
  const f64 = (n: number): Float64Array => new Float64Array(n);
  const sampleOf = native.addon.tanhGaussianSample?.bind(native.addon);
  assert.ok(sampleOf, "the addon has tanhGaussianSample");
  assert.throws(() => sampleOf(heap, offsetOf(backend, x), 4, 2, 3, f32(6), f32(6), f32(12), f64(6), f32(4) as unknown as Float64Array), /logPi must be a typed array/);
  assert.throws(() => sampleOf(heap, offsetOf(backend, x), 4, 2, 3, f32(6), f32(6), f32(11), f64(6), f64(4)), /eps must be a typed array/);
  assert.throws(() => sampleOf(heap, offsetOf(backend, x), 3, 2, 3, f32(6), f32(6), f32(12), f64(6), f64(4)), /rows a multiple of B/);
  assert.throws(() => sampleOf(heap, heap.byteLength - 8, 4, 2, 3, f32(6), f32(6), f32(12), f64(6), f64(4)), /outside the heap/);
  const gradOf = native.addon.tanhGaussianGrad?.bind(native.addon);
  assert.ok(gradOf, "the addon has tanhGaussianGrad");
  const at = offsetOf(backend, x);
  assert.throws(() => gradOf(heap, at, at, at, 4, 2, 3, f32(12), f64(6), -0.1, f32(5), f32(6)), /gradMean must be a typed array/);
  x.dispose();
});
