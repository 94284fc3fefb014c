/**
 * Detaching a tensor from every gradient tape.
 *
 * Measured on tfjs 4.22 (tests/nn/stop-gradient.test.ts pins it): a `tf.grad` taken inside a function that an
 * outer `tf.variableGrads` differentiates is NOT a constant to the outer gradient; tfjs records the inner
 * forward and backward pass on the outer tape, so second-order terms flow back. The iterative optimizer's
 * inputs must be detached (Sec. 3.1, no second-order back-propagation), so it copies them here.
 *
 * A copy (not a zero-gradient identity) also removes the inner backward pass from the outer tape's path, so
 * the outer backward does no wasted work through it. On the CPU backends (cpu, wasm) the copy is a memcpy.
 */
import { tf } from "../backend/tf";

/** A new tensor with x's values and no history: gradients never flow through it. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}
