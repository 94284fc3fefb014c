/**
 * The optimizer every network trains with (Adam, Table 6). Created through this factory so the backend can
 * hand out the native in-place Adam (same values, one native call per step) where the native wasm kernels
 * are active, and tf.train.adam everywhere else.
 */
import { tf } from "./tf";
import { ConfigError } from "../core/errors";
import { NativeAdam } from "./native-adam";
import { activeAddon } from "./wasm-kernels";

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** An Adam optimizer over tf.Variables; `applyGradients` takes a map from variable name to gradient. */
export function createAdam(options: AdamOptions): tf.Optimizer {
  const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = options;
  if (!(learningRate > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0)) {
    throw new ConfigError(`Adam: need learningRate > 0, 0 <= beta1, beta2 < 1, epsilon > 0; got ${JSON.stringify(options)}`);
  }
  const addon = activeAddon();
  if (addon && tf.getBackend() === "wasm") return new NativeAdam(addon, learningRate, beta1, beta2, epsilon);
  return tf.train.adam(learningRate, beta1, beta2, epsilon);
}
