/**
 * The few fused operations the networks are built from. Every network in lib/nn goes through these, so a
 * faster backend speeds up all of them in one place. With the native wasm kernels active, `dense` is one
 * forward kernel (sgemm + bias + activation) and one backward kernel (dx, dw, db together) instead of the ~8
 * kernels of the stock composition; elsewhere it is the stock tfjs composition. Both give the same values.
 */
import { tf } from "./tf";
import { IapoError } from "../core/errors";
import { DENSE_GRAD_KERNEL, wasmKernelMode } from "./wasm-kernels";

/** Non-linearities the paper's networks use (ReLU: policy and Q arch A; ELU: arch B; leaky ReLU: models). */
export type Activation = "linear" | "relu" | "elu" | "leakyrelu" | "sigmoid" | "tanh";

/** Slope of leaky ReLU for negative inputs. */
export const LEAKY_RELU_ALPHA = 0.01;

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "elu":
      return tf.elu(x);
    case "leakyrelu":
      return tf.leakyRelu(x, LEAKY_RELU_ALPHA);
    case "sigmoid":
      return tf.sigmoid(x);
    case "tanh":
      return tf.tanh(x);
  }
}

/** The stock composition: matMul, add, activation (any backend). */
function stockDense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, activation: Activation): tf.Tensor2D {
  return tf.tidy(() => {
    const z = b === null ? tf.matMul(x, w) : tf.add(tf.matMul(x, w), b);
    return activate(z, activation) as tf.Tensor2D;
  });
}

type DenseFn = (x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D) => tf.Tensor2D;

/** One custom-gradient dense function per activation and bias presence, made on first use. */
const fusedDenseFns = new Map<string, DenseFn>();

function fusedDense(activation: Activation, hasBias: boolean): DenseFn {
  const key = `${activation}/${hasBias}`;
  const cached = fusedDenseFns.get(key);
  if (cached) return cached;
  const attrs = { activation, alpha: LEAKY_RELU_ALPHA, hasBias };
  const forward = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor =>
    tf.engine().runKernel("_FusedMatMul", b ? { a: x, b: w, bias: b } : { a: x, b: w }, {
      transposeA: false,
      transposeB: false,
      activation,
      leakyreluAlpha: LEAKY_RELU_ALPHA,
    }) as tf.Tensor;
  const backward = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    const [x, w, y] = saved;
    return tf.engine().runKernel(DENSE_GRAD_KERNEL, { x, w, y, dy }, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  };
  const fn = hasBias
    ? tf.customGrad((x, w, b, save) => {
        const y = forward(x as tf.Tensor, w as tf.Tensor, b as tf.Tensor);
        (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor, y]);
        return { value: y, gradFunc: backward };
      })
    : tf.customGrad((x, w, save) => {
        const y = forward(x as tf.Tensor, w as tf.Tensor, null);
        (save as tf.GradSaveFunc)([x as tf.Tensor, w as tf.Tensor, y]);
        return { value: y, gradFunc: backward };
      });
  const typed = ((x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D) => (b ? fn(x, w, b) : fn(x, w))) as DenseFn;
  fusedDenseFns.set(key, typed);
  return typed;
}

/**
 * A dense layer: activation(x · w + b).
 * @param x [batch, in]  @param w [in, out]  @param b [out] or null
 * @returns [batch, out]
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, activation: Activation = "linear"): tf.Tensor2D {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[0] || (b !== null && (b.rank !== 1 || b.shape[0] !== w.shape[1]))) {
    throw new IapoError(
      `dense: x ${JSON.stringify(x.shape)} · w ${JSON.stringify(w.shape)} + b ${b ? JSON.stringify(b.shape) : "none"}: ` +
        `need x [batch, in], w [in, out], b [out]`,
    );
  }
  const fused = wasmKernelMode() === "native" && tf.getBackend() === "wasm" && x.dtype === "float32" && w.dtype === "float32";
  if (!fused) return stockDense(x, w, b, activation);
  return fusedDense(activation, b !== null)(x, w, b ?? undefined);
}

/** The weights of one dense layer, as `dense()` applies them: activation(x · w + b), w [in, out], b [out]. */
export interface DenseLayer {
  w: tf.Variable;
  b: tf.Variable;
  activation: Activation;
}
