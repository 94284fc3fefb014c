/**
 * The optimizer every network trains with (Adam, Table 6). Created through this factory so the backend can
 * hand out a faster implementation (e.g. a native in-place update) without the callers knowing.
 */
import { tf } from "./tf";

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** An Adam optimizer over tf.Variables; `applyGradients` takes a map from variable name to gradient. */
export function createAdam(options: AdamOptions): tf.Optimizer {
  return tf.train.adam(options.learningRate, options.beta1 ?? 0.9, options.beta2 ?? 0.999, options.epsilon ?? 1e-8);
}
