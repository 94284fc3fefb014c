/**
 * The tanh-squashed Gaussian policy π(a|s; λ): u ~ N(μ, diag σ²), a = tanh(u) ∈ (-1, 1)^|A| (Haarnoja et al., 2018b),
 * with its exact log-density and the KL to the uniform prior p(a) = U(-1, 1)^|A| (Sec. 4.1).
 */
import { tf } from "../backend/tf";
import type { PolicyParams } from "./params";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Reparameterised samples: u = μ + σ ⊙ ε, a = tanh(u). noise ε: [N, batch, |A|]. */
export function sampleTanhGaussian(lambda: PolicyParams, noise: tf.Tensor3D): { u: tf.Tensor3D; action: tf.Tensor3D } {
  return tf.tidy(() => {
    const u = tf.add(lambda.mean, tf.mul(tf.exp(lambda.logStd), noise)) as tf.Tensor3D;
    return { u, action: tf.tanh(u) as tf.Tensor3D };
  });
}

/**
 * log π(a|s) at a = tanh(u), exactly (change of variables):
 *   Σ_i [log N(u_i; μ_i, σ_i) − log(1 − tanh²(u_i))],  log(1 − tanh² u) = 2 (log 2 − u − softplus(−2u)),
 * the stable form with no ε (the authors' code uses log(1 − tanh² u + 1e-6) instead). As tf ops for autodiff; the
 * home of the formula and its gradients is tanhGaussianLogDensity in maths.ts (tests/policy/maths.test.ts compares them).
 *
 * Pass `noise` when u was drawn as μ + σ ε (sampleTanhGaussian): then z = (u − μ)/σ is ε exactly, and log N is
 * written in ε, which has the same value and gradients in exact arithmetic. In float32 it matters once σ is small:
 * z recomputed from a rounded u is off by ulp(u)/σ, and autodiff's ∂/∂μ adds −z/σ and +z/σ terms of size 1/σ that
 * cancel only to float32 precision (at log σ = −15 that form gives ∂ log π/∂μ = 0.625 where 2 tanh u = 0.583).
 * @param u [N, batch, |A|] pre-tanh samples  @param noise [N, batch, |A|] the ε that drew u  @returns [N, batch]
 */
export function tanhGaussianLogProb(lambda: PolicyParams, u: tf.Tensor3D, noise?: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const z = noise ?? tf.div(tf.sub(u, lambda.mean), tf.exp(lambda.logStd));
    const logNormal = tf.neg(tf.add(tf.add(tf.mul(0.5, tf.square(z)), lambda.logStd), HALF_LOG_2PI));
    const logDetJacobian = tf.mul(2, tf.sub(tf.sub(Math.LN2, u), tf.softplus(tf.mul(-2, u))));
    return tf.sum(tf.sub(logNormal, logDetJacobian), -1) as tf.Tensor2D;
  });
}

/** log p(a) of the uniform prior on [-1, 1]^|A|: −|A| log 2. */
export function uniformPriorLogProb(actionSize: number): number {
  return -actionSize * Math.LN2;
}

/**
 * Single-sample estimates of KL(π || U(-1,1)^|A|) = E_π[log π(a) − log p(a)]: log π(a) + |A| log 2 per sample.
 * (No closed form exists for the tanh-Gaussian; average over samples to estimate it.) `noise`: as tanhGaussianLogProb.
 * @returns [N, batch]
 */
export function klToUniformPriorSamples(lambda: PolicyParams, u: tf.Tensor3D, noise?: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tanhGaussianLogProb(lambda, u, noise), uniformPriorLogProb(u.shape[2])) as tf.Tensor2D);
}

/** The deterministic (evaluation) action tanh(μ). */
export function deterministicAction(lambda: PolicyParams): tf.Tensor2D {
  return tf.tanh(lambda.mean) as tf.Tensor2D;
}
