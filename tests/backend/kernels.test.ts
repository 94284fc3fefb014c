/**
 * The native wasm kernels (and the pure-JS transpose fallback) against the tfjs "cpu" backend composition
 * act(matMul(a, b) + bias), on random shapes, every transpose / bias / activation case.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { Rng } from "../../lib/core/rng";
import { randomHost, relativeError, runOn, toTensor, type HostTensor } from "./compare";
import type { BackendName } from "../../lib/backend/select";
import { nativeForTests } from "./native-available";

const { native, skip: skipNative } = nativeForTests();
const ACTIVATIONS = ["linear", "relu", "relu6", "elu", "leakyrelu", "sigmoid", "tanh"] as const;
type Act = (typeof ACTIVATIONS)[number];
const TOL = 1e-4;

function reference(x: tf.Tensor, act: Act, alpha: number): tf.Tensor {
  switch (act) {
    case "linear": return x;
    case "relu": return tf.relu(x);
    case "relu6": return tf.relu6(x);
    case "elu": return tf.elu(x);
    case "leakyrelu": return tf.leakyRelu(x, alpha);
    case "sigmoid": return tf.sigmoid(x);
    case "tanh": return tf.tanh(x);
  }
}

interface Case {
  a: HostTensor;
  b: HostTensor;
  bias: HostTensor | null;
  transposeA: boolean;
  transposeB: boolean;
  act: Act;
}

function makeCase(rng: Rng, transposeA: boolean, transposeB: boolean, biasKind: "none" | "column" | "scalar", act: Act, batch: [number[], number[]]): Case {
  const m = 1 + rng.int(40);
  const k = 1 + rng.int(40);
  const n = 1 + rng.int(40);
  const a = randomHost(rng, [...batch[0], ...(transposeA ? [k, m] : [m, k])]);
  const b = randomHost(rng, [...batch[1], ...(transposeB ? [n, k] : [k, n])]);
  const bias = biasKind === "none" ? null : randomHost(rng, biasKind === "column" ? [n] : [1]);
  return { a, b, bias, transposeA, transposeB, act };
}

async function checkFused(backend: BackendName, c: Case): Promise<number> {
  const alpha = 0.1;
  const [want] = await runOn("cpu", () => {
    const z = tf.matMul(toTensor(c.a), toTensor(c.b), c.transposeA, c.transposeB);
    return reference(c.bias ? tf.add(z, toTensor(c.bias)) : z, c.act, alpha);
  });
  const [got] = await runOn(backend, () => {
    // Called as tf.fused.matMul calls it: operands of rank 3 (the stock wasm kernel needs that).
    const a = toTensor(c.a).expandDims(0);
    const b = toTensor(c.b).expandDims(0);
    const inputs: tf.NamedTensorMap = c.bias ? { a, b, bias: toTensor(c.bias) } : { a, b };
    const out = tf.engine().runKernel("_FusedMatMul", inputs, {
      transposeA: c.transposeA, transposeB: c.transposeB, activation: c.act, leakyreluAlpha: alpha,
    }) as tf.Tensor;
    return out.squeeze([0]);
  });
  assert.deepEqual(got.shape, want.shape);
  return relativeError(got.values, want.values);
}

async function checkBatchMatMul(backend: BackendName, c: Case): Promise<number> {
  const [want] = await runOn("cpu", () => tf.matMul(toTensor(c.a), toTensor(c.b), c.transposeA, c.transposeB));
  const [got] = await runOn(backend, () => tf.matMul(toTensor(c.a), toTensor(c.b), c.transposeA, c.transposeB));
  assert.deepEqual(got.shape, want.shape);
  return relativeError(got.values, want.values);
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

for (const backend of ["wasm-native", "wasm-js"] as const) {
  const skip = backend === "wasm-native" ? skipNative : false;

  test(`${backend}: _FusedMatMul matches cpu for every transpose x bias x activation`, { skip }, async () => {
    const rng = new Rng(11);
    for (const [ta, tb] of TRANSPOSES) {
      for (const biasKind of ["none", "column", "scalar"] as const) {
        for (const act of ACTIVATIONS) {
          const c = makeCase(rng, ta, tb, biasKind, act, [[], []]);
          const err = await checkFused(backend, c);
          assert.ok(err <= TOL, `transposeA=${ta} transposeB=${tb} bias=${biasKind} ${act}: relative error ${err}`);
        }
      }
    }
  });

  test(`${backend}: BatchMatMul matches cpu with batches and broadcast batches`, { skip }, async () => {
    const rng = new Rng(12);
    const batches: [number[], number[]][] = [[[3], [3]], [[1], [4]], [[4], [1]], [[2, 3], [2, 3]], [[2, 3], [1]]];
    for (const [ta, tb] of TRANSPOSES) {
      for (const batch of batches) {
        const c = makeCase(rng, ta, tb, "none", "linear", batch);
        const err = await checkBatchMatMul(backend, c);
        assert.ok(err <= TOL, `transposeA=${ta} transposeB=${tb} batch=${JSON.stringify(batch)}: relative error ${err}`);
      }
    }
  });
}

test("wasm-native: the paper's 256x256 shapes match cpu in all transposes", { skip: skipNative }, async () => {
  const rng = new Rng(13);
  for (const [ta, tb] of TRANSPOSES) {
    const a = randomHost(rng, [256, 256]);
    const b = randomHost(rng, [256, 256]);
    const err = await checkBatchMatMul("wasm-native", { a, b, bias: null, transposeA: ta, transposeB: tb, act: "linear" });
    assert.ok(err <= TOL, `256^3 transposeA=${ta} transposeB=${tb}: relative error ${err}`);
  }
});

test("native gemm refuses offsets outside the heap", { skip: skipNative }, () => {
  assert.ok(native.ok);
  const heap = new ArrayBuffer(64);
  assert.throws(() => native.addon.gemm(heap, 1, 4, 4, 4, false, false, 0, 0, 0, 0, 32, 0, 0, 0, 0), /outside the heap/);
  assert.throws(() => native.addon.gemm(heap, 1, 2, 2, 2, false, false, 0, 0, 16, 0, 64, 0, 0, 0, 0), /outside the heap/);
  assert.throws(() => native.addon.gemm(new Float32Array(4) as unknown as ArrayBuffer, 1, 1, 1, 1, false, false, 0, 0, 0, 0, 0, 0, 0, 0, 0), /ArrayBuffer/);
});
