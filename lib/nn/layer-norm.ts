/** Layer normalisation (Ba et al., 2016) over the last axis, per example. */
import { tf } from "../backend/tf";

/** Added to the variance before the square root. */
export const LAYER_NORM_EPSILON = 1e-5;

/**
 * (x - mean(x)) / sqrt(var(x) + eps) over the last axis, then `gain`·x + `bias` when given.
 * @param x [batch, features]  @param gain [features] or null  @param bias [features] or null
 */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D | null = null, bias: tf.Tensor1D | null = null): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    let y: tf.Tensor = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPSILON)));
    if (gain) y = tf.mul(y, gain);
    if (bias) y = tf.add(y, bias);
    return y as tf.Tensor2D;
  });
}
