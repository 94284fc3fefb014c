/**
 * The few fused operations the networks are built from. Every network in lib/nn goes through these, so a
 * faster backend (native kernels, fused dense+bias+activation) speeds up all of them in one place.
 * This is the stock tfjs implementation; lib/backend may swap in faster kernels for the active backend.
 */
import { tf } from "./tf";

/** Non-linearities the paper's networks use (ReLU: policy and Q arch A; ELU: arch B; leaky ReLU: models). */
export type Activation = "linear" | "relu" | "elu" | "leakyrelu" | "sigmoid" | "tanh";

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "elu":
      return tf.elu(x);
    case "leakyrelu":
      return tf.leakyRelu(x, 0.01);
    case "sigmoid":
      return tf.sigmoid(x);
    case "tanh":
      return tf.tanh(x);
  }
}

/**
 * A dense layer: activation(x · w + b).
 * @param x [batch, in]  @param w [in, out]  @param b [out] or null
 * @returns [batch, out]
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, activation: Activation = "linear"): tf.Tensor2D {
  return tf.tidy(() => {
    const z = b === null ? tf.matMul(x, w) : tf.add(tf.matMul(x, w), b);
    return activate(z, activation) as tf.Tensor2D;
  });
}
