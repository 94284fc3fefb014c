/**
 * Automatic temperature (Haarnoja et al., 2018c): α = exp(log α) is learned so the policy's entropy meets a target,
 *   L(log α) = −log α · E[log π(a|s) + H_target],   H_target = −|A| (A.4).
 */
import { tf } from "../../backend/tf";

/** The loss above from the batch mean of log π (a constant here). */
export function temperatureLoss(logAlpha: tf.Scalar, meanLogProb: tf.Scalar, targetEntropy: number): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mul(logAlpha, tf.add(meanLogProb, targetEntropy))) as tf.Scalar);
}
