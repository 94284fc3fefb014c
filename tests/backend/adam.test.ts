/**
 * The native in-place Adam against tf.train.adam over 100 steps, its safety rules (shared storage, XNNPACK's
 * packed-weight cache), bad input, and no tensor leak across 1000 updates.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { createAdam } from "../../lib/backend/adam";
import { NativeAdam } from "../../lib/backend/native-adam";
import { dense } from "../../lib/backend/ops";
import { installWasmKernels } from "../../lib/backend/wasm-kernels";
import { useBackend } from "../../lib/backend/select";
import { ConfigError } from "../../lib/core/errors";
import { Rng } from "../../lib/core/rng";
import { asWasmBackend, heapOf, offsetOf } from "../../lib/backend/wasm-heap";
import { randomHost, relativeError, toTensor, type HostTensor } from "./compare";
import { nativeForTests } from "./native-available";

const { native, skip } = nativeForTests();

/** Trains variables of the given shapes for `steps` steps on the given per-step gradients; returns final values. */
function train(opt: tf.Optimizer, start: HostTensor[], grads: HostTensor[][], prefix: string): Float32Array[] {
  const vars = start.map((h, i) => tf.variable(toTensor(h), true, `${prefix}${i}`));
  for (const step of grads) {
    const map: tf.NamedTensorMap = {};
    step.forEach((g, i) => (map[`${prefix}${i}`] = toTensor(g)));
    opt.applyGradients(map);
    tf.dispose(Object.values(map));
  }
  const out = vars.map((v) => v.dataSync() as Float32Array);
  tf.dispose(vars);
  opt.dispose();
  return out;
}

test("native Adam matches tf.train.adam over 100 steps", { skip }, async () => {
  const rng = new Rng(31);
  const shapes = [[17, 9], [9], [1]];
  const start = shapes.map((s) => randomHost(rng, s));
  const grads = Array.from({ length: 100 }, () => shapes.map((s) => randomHost(rng, s, 0.5)));
  const options = { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  await useBackend("wasm-native");
  const adam = createAdam(options);
  assert.equal(adam.getClassName(), NativeAdam.className, "wasm-native hands out the native Adam");
  const got = train(adam, start, grads, "native/");
  await useBackend("cpu");
  const reference = createAdam(options);
  assert.equal(reference.getClassName(), "Adam", "cpu hands out tf.train.adam");
  const want = train(reference, start, grads, "stock/");
  for (let i = 0; i < want.length; i++) {
    const err = relativeError(got[i], want[i]);
    assert.ok(err <= 1e-4, `variable ${i}: relative error ${err}`);
    // and the values really moved (a no-op update would also be "close" to the start for tiny rates)
    assert.ok(relativeError(start[i].values, want[i]) > 1e-3);
  }
});

test("a native Adam step reports Σ g² of its gradients: sumSquares's value, and the hand-computed one", { skip }, async () => {
  await useBackend("wasm-native");
  const adam = createAdam({ learningRate: 1e-3 }) as NativeAdam;
  assert.ok(Number.isNaN(adam.gradSumSquares), "NaN before the first step");
  const vars = [tf.variable(tf.zeros([2, 2]), true, "norm/w"), tf.variable(tf.zeros([3]), true, "norm/b")];
  const grads = [tf.tensor2d([[1, -2], [0.5, 3]]), tf.tensor1d([-1.5, 0.25, 2])];
  adam.applyGradients({ "norm/w": grads[0], "norm/b": grads[1] });
  // 1 + 4 + 0.25 + 9 + 2.25 + 0.0625 + 4: every value exact in float32 and in double
  assert.equal(adam.gradSumSquares, 20.5625);
  const backend = asWasmBackend(tf.backend());
  const table = Uint32Array.from(grads.flatMap((g) => [offsetOf(backend, g), g.size]));
  assert.equal(adam.gradSumSquares, native.ok ? native.addon.sumSquares(heapOf(backend), table, 2) : NaN);
  tf.dispose([...vars, ...grads]);
  adam.dispose();
});

test("native Adam flushes subnormal moments to zero, moves the value as tf.train.adam, and leaves JS arithmetic IEEE", { skip }, async () => {
  // g = 2e-38 is a normal float32 (the smallest is 1.18e-38); IEEE would give m = 0.1 g = 2e-39 and
  // v = 0.001 g² ≈ 4e-79 → 0, m subnormal. Flushed, both moments are exactly 0.
  const g = 2e-38;
  await useBackend("wasm-native");
  const adam = createAdam({ learningRate: 1e-3 }) as NativeAdam;
  const w = tf.variable(tf.tensor1d([0.5, -0.25]), true, "flush/w");
  const grad = tf.tensor1d([g, 1]);
  adam.applyGradients({ "flush/w": grad });
  const weights = await adam.getWeights();
  const slot = (suffix: string): Float32Array => weights.find((x) => x.name === `flush/w/${suffix}`)?.tensor.dataSync() as Float32Array;
  assert.equal(slot("m")[0], 0, "the subnormal first moment is flushed");
  assert.equal(slot("v")[0], 0);
  assert.equal(slot("m")[1], Math.fround(0.1), "a normal moment is tf's: (1 − β1)·g");
  assert.ok(Math.fround(0.1 * g) > 0, "IEEE would have kept a subnormal m");
  const values = w.dataSync();
  await useBackend("cpu");
  const reference = createAdam({ learningRate: 1e-3 });
  const w2 = tf.variable(tf.tensor1d([0.5, -0.25]), true, "flush/w2");
  const grad2 = tf.tensor1d([g, 1]);
  reference.applyGradients({ "flush/w2": grad2 });
  assert.deepEqual(Array.from(values), Array.from(w2.dataSync()), "the flushed moment moved its value as tf's did");
  // The caller's floating-point mode is back: JavaScript still computes subnormal doubles and floats.
  const tiny = new Float64Array([1e-310]);
  assert.ok(tiny[0] * 0.5 > 0, "subnormal double arithmetic after the call");
  assert.ok(Math.fround(tiny[0] * 1e270) > 0, "a subnormal float32 (1e-40) after the call");
  tf.dispose([w, w2, grad, grad2]);
  adam.dispose();
  reference.dispose();
});

test("adam, sumSquares and polyak cut big tensors into pieces: the same bits on one thread and two, and tf's values", { skip }, async () => {
  // 60000 and 70000 floats: 4 and 5 pieces of 16384, 130400 floats in all (two threads from 32768 on)
  const shapes = [[300, 200], [200], [70000]];
  const rng = new Rng(33);
  const start = shapes.map((sh) => randomHost(rng, sh));
  const grads = Array.from({ length: 5 }, () => shapes.map((sh) => randomHost(rng, sh, 0.5)));
  const options = { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  await useBackend("wasm-native");
  if (!native.ok) return;
  const addon = native.addon;
  const threads = addon.blasInfo().threads;
  const runs: Array<{ values: Float32Array[]; sumSquares: number[]; polyak: Float32Array }> = [];
  for (const t of [1, threads]) {
    addon.setThreads(t);
    const adam = createAdam(options) as NativeAdam;
    const vars = start.map((h, i) => tf.variable(toTensor(h), true, `pieces${t}/${i}`));
    const sumSquares: number[] = [];
    for (const step of grads) {
      const tensors = step.map(toTensor);
      adam.applyGradients(Object.fromEntries(tensors.map((g, i) => [`pieces${t}/${i}`, g])));
      const backend = asWasmBackend(tf.backend());
      const table = Uint32Array.from(tensors.flatMap((g) => [offsetOf(backend, g), g.size]));
      assert.equal(adam.gradSumSquares, addon.sumSquares(heapOf(backend), table, tensors.length), `${t} thread(s): Adam's Σ g² is sumSquares's`);
      let exact = 0;
      for (const g of step) for (const x of g.values) exact += x * x;
      assert.ok(Math.abs(adam.gradSumSquares - exact) <= 1e-12 * exact, `${t} thread(s): Σ g² ${adam.gradSumSquares} against ${exact}`);
      sumSquares.push(adam.gradSumSquares);
      tf.dispose(tensors);
    }
    // Polyak of the last variable towards the first gradient's tensor of the same size, against tf's float32 order.
    const backend = asWasmBackend(tf.backend());
    const target = toTensor(start[2]);
    const source = toTensor(grads[0][2]);
    const keep = Math.fround(0.995);
    const take = Math.fround(0.005);
    addon.polyak(heapOf(backend), Uint32Array.from([offsetOf(backend, target), offsetOf(backend, source), target.size]), 1, keep, take);
    const polyak = target.dataSync() as Float32Array;
    start[2].values.forEach((x, e) => {
      const want = Math.fround(Math.fround(x * keep) + Math.fround(grads[0][2].values[e] * take));
      if (polyak[e] !== want) assert.fail(`${t} thread(s): polyak element ${e}: ${polyak[e]} against ${want}`);
    });
    runs.push({ values: vars.map((v) => v.dataSync() as Float32Array), sumSquares, polyak });
    tf.dispose([...vars, target, source]);
    adam.dispose();
  }
  addon.setThreads(threads);
  assert.deepEqual(runs[1], runs[0], "two threads give one thread's bits");
  await useBackend("cpu");
  const want = train(createAdam(options), start, grads, "pieces-cpu/");
  want.forEach((w, i) => assert.ok(relativeError(runs[0].values[i], w) <= 1e-4, `variable ${i} against tf.train.adam`));
});

test("native Adam leaves tensors that shared a variable's storage unchanged", { skip }, async () => {
  await useBackend("wasm-native");
  const online = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, "shared/online");
  const target = tf.variable(online, false, "shared/target"); // tf.variable shares storage instead of copying
  const before = target.dataSync().slice();
  const adam = createAdam({ learningRate: 0.1 });
  const g = tf.ones([2, 2]);
  adam.applyGradients({ "shared/online": g });
  assert.deepEqual(Array.from(target.dataSync()), Array.from(before));
  assert.ok(online.dataSync()[0] < 1, "the online variable moved");
  tf.dispose([online, target, g]);
  adam.dispose();
});

test("a stale XNNPACK packed-weight cache never sees an in-place update", { skip }, async () => {
  await useBackend("wasm-native");
  const rng = new Rng(32);
  const x = toTensor(randomHost(rng, [8, 16]));
  const init = toTensor(randomHost(rng, [16, 4]));
  const w = tf.variable(init, true, "xnn/w");
  init.dispose(); // w now owns its storage, so the update really happens in place (no copy-on-share)
  const adam = createAdam({ learningRate: 0.5 });
  installWasmKernels("stock"); // XNNPACK matmul packs w and caches it under w's wasm id
  tf.matMul(x, w).dispose();
  installWasmKernels("native", native.ok ? native.addon : null);
  const g = toTensor(randomHost(rng, [16, 4]));
  adam.applyGradients({ "xnn/w": g });
  installWasmKernels("stock");
  const afterStock = tf.matMul(x, w).dataSync();
  installWasmKernels("native", native.ok ? native.addon : null);
  const afterNative = tf.matMul(x, w).dataSync();
  assert.ok(relativeError(afterStock, afterNative) <= 1e-5, "XNNPACK used the updated weights, not a cached packed copy");
  tf.dispose([x, w, g]);
  adam.dispose();
});

test("createAdam rejects bad hyper-parameters; native Adam rejects a mismatched gradient", { skip }, async () => {
  assert.throws(() => createAdam({ learningRate: 0 }), ConfigError);
  assert.throws(() => createAdam({ learningRate: 1e-3, beta1: 1 }), /beta1/);
  await useBackend("wasm-native");
  const v = tf.variable(tf.zeros([3]), true, "bad/v");
  const adam = createAdam({ learningRate: 1e-3 });
  assert.throws(() => adam.applyGradients({ "bad/v": tf.zeros([4]) }), /shape/);
  assert.throws(() => adam.applyGradients({ "bad/none": tf.zeros([3]) }), /no variable/);
  tf.dispose(v);
  adam.dispose();
});

for (const backend of ["wasm-native", "wasm-js"] as const) {
  test(`${backend}: no tensor or byte leaks across 1000 dense+Adam updates`, { skip: backend === "wasm-native" ? skip : false }, async () => {
    await useBackend(backend);
    const rng = new Rng(33);
    const x = toTensor(randomHost(rng, [32, 8]));
    const params = [[8, 32], [32], [32, 1], [1]].map((s, i) => tf.variable(toTensor(randomHost(rng, s, 0.3)), true, `leak/${backend}/${i}`));
    const adam = createAdam({ learningRate: 1e-3 });
    const update = (): void => {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const h = dense(x as tf.Tensor2D, params[0] as tf.Tensor2D, params[1] as tf.Tensor1D, "relu");
          return tf.mean(tf.square(dense(h, params[2] as tf.Tensor2D, params[3] as tf.Tensor1D, "linear")));
        });
        adam.applyGradients(grads);
        return value;
      }).dispose();
    };
    for (let i = 0; i < 5; i++) update(); // optimizer slots are made on the first step
    const before = tf.memory();
    for (let i = 0; i < 1000; i++) update();
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numBytes, before.numBytes);
    tf.dispose([x, ...params]);
    adam.dispose();
  });
}

test("the per-tensor native calls (adam, sumSquares, polyak) refuse a table that is not a Uint32Array or is too short", { skip }, () => {
  assert.ok(native.ok);
  const { addon } = native;
  const heap = new ArrayBuffer(256);
  assert.throws(() => addon.adam(heap, new Float32Array(5) as unknown as Uint32Array, 1, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001), /adam's table must be a Uint32Array/);
  assert.throws(() => addon.adam(heap, new Uint32Array(9), 2, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001), /adam's table is shorter than its count/);
  assert.throws(() => addon.sumSquares(heap, new Uint32Array(3), 2), /sumSquares's table is shorter than its count/);
  assert.throws(() => addon.polyak(heap, new Uint32Array(5), 2, 0.99, 0.01), /polyak's table is shorter than its count/);
  // a row pointing outside the heap is refused before anything is written
  assert.throws(() => addon.sumSquares(heap, Uint32Array.from([200, 32]), 1), /outside the heap/);
  assert.equal(addon.sumSquares(heap, Uint32Array.from([0, 64]), 1), 0);
});
