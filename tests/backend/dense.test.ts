/** dense(): the fused forward/backward (native) and the stock composition (fallback) against tfjs "cpu". */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { dense, type Activation } from "../../lib/backend/ops";
import { wasmKernelMode } from "../../lib/backend/wasm-kernels";
import { IapoError } from "../../lib/core/errors";
import { Rng } from "../../lib/core/rng";
import { randomHost, relativeError, runOn, toTensor } from "./compare";
import { nativeForTests } from "./native-available";

const { skip: skipNative } = nativeForTests();
const ACTIVATIONS: Activation[] = ["linear", "relu", "elu", "leakyrelu", "sigmoid", "tanh"];

/** Value and gradients (x, w, b) of sum(dense(x, w, b) * r) on one backend. */
function valueAndGrads(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null, r: tf.Tensor, act: Activation): tf.Tensor[] {
  const f = (xs: tf.Tensor, ws: tf.Tensor, bs?: tf.Tensor): tf.Scalar =>
    tf.sum(tf.mul(dense(xs as tf.Tensor2D, ws as tf.Tensor2D, (bs ?? null) as tf.Tensor1D | null, act), r));
  const y = dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D | null, act);
  const grads = b ? tf.grads((xs, ws, bs) => f(xs, ws, bs))([x, w, b]) : tf.grads((xs, ws) => f(xs, ws))([x, w]);
  return [y, ...grads];
}

for (const backend of ["wasm-native", "wasm-js"] as const) {
  test(`${backend}: dense value and gradients match cpu for every activation, with and without bias`, { skip: backend === "wasm-native" ? skipNative : false }, async () => {
    const rng = new Rng(21);
    for (const act of ACTIVATIONS) {
      for (const withBias of [true, false]) {
        const m = 1 + rng.int(64);
        const k = 1 + rng.int(64);
        const n = 1 + rng.int(64);
        const x = randomHost(rng, [m, k]);
        const w = randomHost(rng, [k, n], 0.3);
        const b = withBias ? randomHost(rng, [n]) : null;
        const r = randomHost(rng, [m, n]);
        const run = () => valueAndGrads(toTensor(x), toTensor(w), b && toTensor(b), toTensor(r), act);
        const want = await runOn("cpu", run);
        const got = await runOn(backend, run);
        assert.equal(wasmKernelMode(), backend === "wasm-native" ? "native" : "transpose");
        assert.equal(got.length, want.length);
        for (let i = 0; i < want.length; i++) {
          assert.deepEqual(got[i].shape, want[i].shape);
          const err = relativeError(got[i].values, want[i].values);
          assert.ok(err <= 1e-4, `${act} bias=${withBias} output ${i} (y, dx, dw, db): relative error ${err}`);
        }
      }
    }
  });
}

test("dense rejects shapes that do not chain", { skip: skipNative }, async () => {
  await runOn("wasm-native", () => tf.scalar(0));
  const x = tf.zeros([4, 3]) as tf.Tensor2D;
  assert.throws(() => dense(x, tf.zeros([4, 2]) as tf.Tensor2D, null), IapoError);
  assert.throws(() => dense(x, tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D), /b \[3\]/);
  assert.throws(() => dense(tf.zeros([3]) as unknown as tf.Tensor2D, tf.zeros([3, 2]) as tf.Tensor2D, null), IapoError);
});
