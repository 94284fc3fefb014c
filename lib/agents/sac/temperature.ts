/**
 * Automatic temperature (Haarnoja et al., 2018c) as tf ops for the tfjs path's autodiff: the losses of
 * temperatureLossValue and alphaTemperatureLossValue in maths.ts (one statement each;
 * tests/agents/sac-maths.test.ts compares them),
 *   "log-alpha": L(log α) = −log α · (E[log π(a|s)] + H_target),   "alpha": L(log α) = −α · (E[log π] + H_target),
 * H_target = −|A| (A.4).
 */
import { tf } from "../../backend/tf";
import type { TemperatureLoss } from "./config";

/** The loss above from the batch mean of log π (a constant here), in the given form (default "log-alpha"). */
export function temperatureLoss(logAlpha: tf.Scalar, meanLogProb: tf.Scalar, targetEntropy: number, form: TemperatureLoss = "log-alpha"): tf.Scalar {
  return tf.tidy(() => {
    const weight = form === "alpha" ? tf.exp(logAlpha) : logAlpha;
    return tf.neg(tf.mul(weight, tf.add(meanLogProb, targetEntropy))) as tf.Scalar;
  });
}
