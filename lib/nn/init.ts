/**
 * Weight initialisation from a seeded `Rng`, so networks are a function of the run's seed. Two schemes
 * (`NetworkInit`), chosen per network, with each layer's start a `LinearInit`:
 * - "fan-in-uniform": weights and biases U(±1/√fanIn), PyTorch's nn.Linear default (as common SAC code keeps it).
 * - "xavier": the authors' code (lib/layers/layer.py and the layers that re-initialise their outputs):
 *   Xavier-normal hidden weights, N(0, gain²·2/(fanIn + fanOut)), with PyTorch's gain for the layer's
 *   non-linearity (ReLU √2, tanh 5/3, others 1: ELU, sigmoid gates, linear) and constant biases (0.1 after ReLU,
 *   else 0); the output layers each model sets (Q: U(±3e-3); policy heads: zeros).
 */
import { tf } from "../backend/tf";
import type { Activation } from "../backend/ops";
import type { Rng } from "../core/rng";

export const NETWORK_INITS = ["fan-in-uniform", "xavier"] as const;
/** How a network's layers start: see the file comment. */
export type NetworkInit = (typeof NETWORK_INITS)[number];

/**
 * How one linear layer starts: fan-in uniform; all zeros; weights and biases U(±uniform); or Xavier-normal weights
 * with gain `xavierNormal` and every bias `bias`.
 */
export type LinearInit = "fan-in-uniform" | "zeros" | { uniform: number } | { xavierNormal: number; bias: number };

/** The Q-networks' output layer under "xavier" (the code's value layer, lib/variables/value_variable.py). */
export const XAVIER_Q_OUTPUT: LinearInit = { uniform: 3e-3 };

/** PyTorch's calculate_gain as the code's layers use it: ReLU √2, tanh 5/3; every other non-linearity keeps 1. */
export function xavierGain(activation: Activation): number {
  return activation === "relu" ? Math.SQRT2 : activation === "tanh" ? 5 / 3 : 1;
}

/** The start of a hidden layer (or highway gate, activation "sigmoid") followed by `activation` under `init`. */
export function hiddenLayerInit(init: NetworkInit, activation: Activation): LinearInit {
  return init === "fan-in-uniform" ? "fan-in-uniform" : { xavierNormal: xavierGain(activation), bias: activation === "relu" ? 0.1 : 0 };
}

/** Uniform values in [-bound, bound) with the given shape. */
export function uniformTensor(rng: Rng, shape: number[], bound: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng.uniform(-bound, bound);
  return tf.tensor(values, shape);
}

/** Weight [fanIn, fanOut] and bias [fanOut] tensors for a linear layer (weights drawn first, then biases). */
export function linearInit(rng: Rng, fanIn: number, fanOut: number, init: LinearInit = "fan-in-uniform"): { w: tf.Tensor; b: tf.Tensor } {
  if (init === "zeros") return { w: tf.zeros([fanIn, fanOut]), b: tf.zeros([fanOut]) };
  if (init === "fan-in-uniform" || "uniform" in init) {
    const bound = init === "fan-in-uniform" ? 1 / Math.sqrt(fanIn) : init.uniform;
    return { w: uniformTensor(rng, [fanIn, fanOut], bound), b: uniformTensor(rng, [fanOut], bound) };
  }
  const std = init.xavierNormal * Math.sqrt(2 / (fanIn + fanOut));
  return { w: tf.tensor(rng.fillNormal(new Float32Array(fanIn * fanOut), 0, std), [fanIn, fanOut]), b: tf.fill([fanOut], init.bias) };
}
