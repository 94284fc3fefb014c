/** The fallback path on its own: with the addon disabled (IAPO_NATIVE=0) everything runs on wasm-js. */
import { test } from "node:test";
import assert from "node:assert/strict";
process.env.IAPO_NATIVE = "0"; // before anything loads the addon
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { createAdam } from "../../lib/backend/adam";
import { dense } from "../../lib/backend/ops";
import { wasmKernelMode } from "../../lib/backend/wasm-kernels";

test("without the addon the order falls to wasm-js, which trains a dense layer with tf.train.adam", async () => {
  const info = await initBackend({});
  assert.equal(info.name, "wasm-js");
  assert.match(info.skipped.find((s) => s.name === "wasm-native")?.why ?? "", /IAPO_NATIVE=0/);
  assert.equal(wasmKernelMode(), "transpose");
  const adam = createAdam({ learningRate: 0.05 });
  // (instanceof cannot tell optimizers apart: tfjs defines Optimizer[Symbol.hasInstance] by duck typing)
  assert.equal(adam.getClassName(), "Adam");
  const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
  const target = tf.tensor2d([[1], [2], [3]]);
  const w = tf.variable(tf.zeros([2, 1]), true, "fallback/w");
  const b = tf.variable(tf.zeros([1]), true, "fallback/b");
  const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(dense(x, w as tf.Variable<tf.Rank.R2>, b as tf.Variable<tf.Rank.R1>, "linear"), target)));
  const first = loss().dataSync()[0];
  for (let i = 0; i < 300; i++) adam.minimize(loss);
  const last = loss().dataSync()[0];
  assert.ok(last < first / 100, `loss ${first} -> ${last}`);
});
