/**
 * λ, the action distribution parameters of a Gaussian before the tanh: mean μ and log standard deviation
 * log σ, per state and action dimension. The paper writes λ = [μ, σ]; like the authors' code, the optimizers
 * work on log σ so that every value of λ is a valid distribution.
 */
import { tf } from "../backend/tf";

export type PolicyParams = {
  /** μ, [batch, |A|], pre-tanh mean. */
  mean: tf.Tensor2D;
  /** log σ, [batch, |A|], clipped to [LOG_STD_MIN, LOG_STD_MAX] where the optimizers produce it. */
  logStd: tf.Tensor2D;
};

/** Bounds on log σ (as in common SAC code): σ in [2e-9, 7.4]. */
export const LOG_STD_MIN = -20;
export const LOG_STD_MAX = 2;

/** λ0 for a batch: μ = 0, σ = `std` (paper: 1; authors' code: 0.5). */
export function initialPolicyParams(batch: number, actionSize: number, std: number): PolicyParams {
  return { mean: tf.zeros([batch, actionSize]), logStd: tf.fill([batch, actionSize], Math.log(std)) };
}

/** log σ clipped to the bounds (tf ops; clipLogStdValue in maths.ts is the same per number). */
export function clipLogStd(logStd: tf.Tensor2D): tf.Tensor2D {
  return tf.clipByValue(logStd, LOG_STD_MIN, LOG_STD_MAX);
}

export function disposePolicyParams(p: PolicyParams): void {
  p.mean.dispose();
  p.logStd.dispose();
}

/** Plain copies, for logs and analysis: row-major [batch, |A|]. */
export function policyParamsToArrays(p: PolicyParams): { mean: Float32Array; std: Float32Array } {
  const mean = Float32Array.from(p.mean.dataSync() as Float32Array);
  const std = Float32Array.from(p.logStd.dataSync() as Float32Array, (v) => Math.exp(v));
  return { mean, std };
}
