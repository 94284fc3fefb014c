/**
 * Automatic temperature (Haarnoja et al., 2018c) as tf ops for the tfjs path's autodiff: the loss of
 * temperatureLossValue in maths.ts (its one statement; tests/agents/sac-maths.test.ts compares the two),
 *   L(log α) = −log α · (E[log π(a|s)] + H_target),   H_target = −|A| (A.4).
 */
import { tf } from "../../backend/tf";

/** The loss above from the batch mean of log π (a constant here). */
export function temperatureLoss(logAlpha: tf.Scalar, meanLogProb: tf.Scalar, targetEntropy: number): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mul(logAlpha, tf.add(meanLogProb, targetEntropy))) as tf.Scalar);
}
