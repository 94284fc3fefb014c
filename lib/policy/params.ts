/**
 * λ, the action distribution parameters of a Gaussian before the tanh: mean μ and log standard deviation
 * log σ, per state and action dimension. The paper writes λ = [μ, σ]; like the authors' code, the optimizers
 * work on log σ so that every value of λ is a valid distribution.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";

export type PolicyParams = {
  /** μ, [batch, |A|], pre-tanh mean. */
  mean: tf.Tensor2D;
  /** log σ, [batch, |A|], bounded (LogStdBounds) where the amortized optimizers produce it. */
  logStd: tf.Tensor2D;
};

/** Bounds on log σ of the hard clip (as in common SAC code): σ in [2e-9, 7.4]. */
export const LOG_STD_MIN = -20;
export const LOG_STD_MAX = 2;

/**
 * The soft clamp's bounds: the authors' code starts them here as learnable parameters (per action dimension);
 * here they stay fixed. log σ then lies in (−10, −10 + softplus(10.5)) ≈ (−10, 0.50003): σ in (4.5e-5, 1.65).
 */
export const SOFT_LOG_STD_MIN = -10;
export const SOFT_LOG_STD_MAX = 0.5;

/**
 * How the amortized optimizers bound the log σ they output: "hard-clip" to [LOG_STD_MIN, LOG_STD_MAX] (no
 * gradient outside) or "soft-clamp" into (SOFT_LOG_STD_MIN, SOFT_LOG_STD_MAX) by two softplus (the authors' code).
 */
export const LOG_STD_BOUNDS = ["hard-clip", "soft-clamp"] as const;
export type LogStdBounds = (typeof LOG_STD_BOUNDS)[number];

/** `bounds` when it names one of LOG_STD_BOUNDS, else a ConfigError naming `what`. */
export function checkLogStdBounds(bounds: unknown, what: string): LogStdBounds {
  if (!(LOG_STD_BOUNDS as readonly unknown[]).includes(bounds)) throw new ConfigError(`${what} must be one of ${LOG_STD_BOUNDS.join(", ")}, got ${JSON.stringify(bounds)}`);
  return bounds as LogStdBounds;
}

/** λ0 for a batch: μ = 0, σ = `std` (paper: 1; authors' code: 0.5). */
export function initialPolicyParams(batch: number, actionSize: number, std: number): PolicyParams {
  return { mean: tf.zeros([batch, actionSize]), logStd: tf.fill([batch, actionSize], Math.log(std)) };
}

/** log σ clipped to the bounds (tf ops; clipLogStdValue in maths.ts is the same per number). */
export function clipLogStd(logStd: tf.Tensor2D): tf.Tensor2D {
  return tf.clipByValue(logStd, LOG_STD_MIN, LOG_STD_MAX);
}

/**
 * log σ from an optimizer's raw output under `bounds`, as tf ops for autodiff; the home is boundLogStdValue in
 * maths.ts (tests/policy/maths.test.ts compares them). Soft clamp: lo + softplus((hi − softplus(hi − x)) − lo).
 */
export function boundLogStd(logStd: tf.Tensor2D, bounds: LogStdBounds): tf.Tensor2D {
  if (bounds === "hard-clip") return clipLogStd(logStd);
  return tf.tidy(() => {
    const upper = tf.sub(SOFT_LOG_STD_MAX, tf.softplus(tf.sub(SOFT_LOG_STD_MAX, logStd)));
    return tf.add(SOFT_LOG_STD_MIN, tf.softplus(tf.sub(upper, SOFT_LOG_STD_MIN))) as tf.Tensor2D;
  });
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
