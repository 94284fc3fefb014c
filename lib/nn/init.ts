/**
 * Weight initialisation from a seeded `Rng`, so networks are a function of the run's seed.
 * Default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases, the PyTorch `nn.Linear` default the
 * authors' code used.
 */
import { tf } from "../backend/tf";
import type { Rng } from "../core/rng";

/** Uniform values in [-bound, bound) with the given shape. */
export function uniformTensor(rng: Rng, shape: number[], bound: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng.uniform(-bound, bound);
  return tf.tensor(values, shape);
}

/** How a linear layer starts: the fan-in uniform default, or all zeros (the iterative optimizer's outputs). */
export type LinearInit = "fan-in-uniform" | "zeros";

/** Weight [fanIn, fanOut] and bias [fanOut] tensors for a linear layer. */
export function linearInit(rng: Rng, fanIn: number, fanOut: number, init: LinearInit = "fan-in-uniform"): { w: tf.Tensor; b: tf.Tensor } {
  if (init === "zeros") return { w: tf.zeros([fanIn, fanOut]), b: tf.zeros([fanOut]) };
  const bound = 1 / Math.sqrt(fanIn);
  return { w: uniformTensor(rng, [fanIn, fanOut], bound), b: uniformTensor(rng, [fanOut], bound) };
}
