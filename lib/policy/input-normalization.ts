/**
 * How the iterative optimizer's inputs (s, μ, log σ, ∇μ J, ∇log σ J) are normalised, each separately, per example.
 * - "layer" (paper A.4, following Marino et al. 2018b; the authors' code standardises the same way):
 *   (x − mean(x)) / std(x) across the input's features. Scale-free, so it discards the step size the gradient
 *   carries, and for a 1-D input (e.g. Pendulum's single action) it is identically zero.
 * - "layer+scale" (this project's option): the same, plus two features per input that keep what was removed,
 *   sign(m)·log(1 + |m|) of the mean m and log(std + 1e-8), so the map is invertible.
 */
import { tf } from "../backend/tf";

export const INPUT_NORMALIZATIONS = ["layer", "layer+scale"] as const;
export type InputNormalization = (typeof INPUT_NORMALIZATIONS)[number];

/** Number of features `normalizeInput` produces for an input of `size` features. */
export function normalizedSize(size: number, mode: InputNormalization): number {
  return mode === "layer" ? size : size + 2;
}

/**
 * As tf ops; the home of the formula is normalizeRow in maths.ts (tests/policy/maths.test.ts compares them).
 * @param x [batch, features] @returns [batch, normalizedSize(features)]
 */
export function normalizeInput(x: tf.Tensor2D, mode: InputNormalization): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const std = tf.sqrt(tf.add(variance, 1e-10));
    const standardized = tf.div(tf.sub(x, mean), tf.add(std, 1e-5)) as tf.Tensor2D;
    if (mode === "layer") return standardized;
    const signedLogMean = tf.mul(tf.sign(mean), tf.log1p(tf.abs(mean)));
    const logStd = tf.log(tf.add(std, 1e-8));
    return tf.concat([standardized, signedLogMean, logStd], 1) as tf.Tensor2D;
  });
}
