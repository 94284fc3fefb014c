import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { stopGradient } from "../../lib/nn";

// J(λ) smooth and non-quadratic, so its gradient depends on λ and second-order terms are non-zero.
const J = (l: tf.Tensor): tf.Scalar => tf.add(tf.sum(tf.sin(l)), tf.mul(tf.sum(tf.square(l)), tf.sum(l))) as tf.Scalar;

function outerGrad(detach: "none" | "stopGradient" | "copy"): number[] {
  const w = tf.variable(tf.tensor2d([[0.3, -0.2], [0.5, 0.1]]));
  const s = tf.tensor2d([[1, 2], [0.5, -1]]);
  const { grads } = tf.variableGrads(() => {
    const lambda = tf.add(tf.matMul(s, w), 0.1);
    const g = tf.grad(J)(lambda);
    const input = detach === "none" ? g : detach === "stopGradient" ? stopGradient(g) : tf.tensor(Array.from(g.dataSync()), g.shape);
    return tf.add(J(tf.tanh(tf.matMul(input, w))), J(lambda)) as tf.Scalar;
  }, [w]);
  const out = Array.from(grads[w.name].dataSync());
  w.dispose();
  return out;
}

test("a tf.grad nested in tf.variableGrads is NOT a constant in tfjs 4.22; stopGradient makes it one", async () => {
  await initBackend();
  const copied = outerGrad("copy");
  const stopped = outerGrad("stopGradient");
  const nested = outerGrad("none");
  assert.deepEqual(stopped, copied);
  const differs = nested.some((v, i) => Math.abs(v - copied[i]) > 1e-3 * (1 + Math.abs(v)));
  assert.ok(differs, `expected second-order terms to flow without stopGradient: ${nested} vs ${copied}`);
});
