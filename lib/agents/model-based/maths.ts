/**
 * The maths of the model-based value estimate, once, as small pure functions on plain numbers and arrays: the
 * Retrace-weighted estimate of Eq. 13, the Gaussian log-likelihood the model is fitted by (A.5), and the KL
 * between two Gaussians that distils the rollout policy. The tf forms (rollout.ts, model.ts, rollout-policy.ts)
 * write the same formulas as tf ops for autodiff, reading their coefficients from here;
 * tests/agents/model-based-maths.test.ts checks these against hand-computed values and the tf forms against these.
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Retrace's weight of the k-th temporal difference, (γλ)^k (on-policy: every trace coefficient c = λ). */
export function retraceCoefficient(k: number, gamma: number, lambda: number): number {
  return Math.pow(gamma * lambda, k);
}

/**
 * Eq. 13 along one rollout of h model steps from (s_t, a_t):
 *   Q̂ = Q_0 + Σ_{k=0}^{h−1} (γλ)^k δ_k,   δ_k = r̂_k + γ V_{k+1} − Q_k,   V_{k+1} = Q_{k+1} − c_{k+1},
 * where Q_k = Q_ψ(s_k, a_k) (pessimistic, Eq. 12), r̂_k the model's reward and c_k = α(log π(a_k|s_k) − log p(a_k))
 * the KL cost of the sampled action (V of Eq. 14 with Q_ψ for Q^π). The sum stops at the h-th model step, as the
 * authors' code does (the paper's upper limit t+h would need one model step more). h = 0 gives Q_0 (model-free),
 * λ = 0 the one-step model target r̂_0 + γV_1, λ = 1 the h-step return Σ γ^k r̂_k − Σ_{k≥1} γ^k c_k + γ^h Q_h.
 * @param q [h + 1]: Q_0..Q_h  @param rewards [h]: r̂_0..r̂_{h−1}  @param klCosts [h]: c_1..c_h
 */
export function retraceEstimate(q: ArrayLike<number>, rewards: ArrayLike<number>, klCosts: ArrayLike<number>, gamma: number, lambda: number): number {
  const h = rewards.length;
  if (q.length !== h + 1 || klCosts.length !== h) throw new RangeError(`retraceEstimate: need h + 1 Q values and h KL costs for h = ${h} rewards, got ${q.length} and ${klCosts.length}`);
  let estimate = q[0];
  for (let k = 0; k < h; k++) estimate += retraceCoefficient(k, gamma, lambda) * (rewards[k] + gamma * (q[k + 1] - klCosts[k]) - q[k]);
  return estimate;
}

/** −log N(x; μ, σ²) with σ = exp(log σ): ½((x − μ)/σ)² + log σ + ½ log 2π. */
export function gaussianNegLogLikelihood(x: number, mean: number, logStd: number): number {
  const z = (x - mean) / Math.exp(logStd);
  return 0.5 * z * z + logStd + HALF_LOG_2PI;
}

/**
 * KL(N(μ1, σ1²) || N(μ2, σ2²)) = log σ2 − log σ1 + (σ1² + (μ1 − μ2)²) / (2σ2²) − ½, per dimension. Between two
 * tanh-squashed Gaussians it is the same (KL is unchanged by the shared bijection tanh), so it is the exact
 * distillation loss KL(π_iterative || π_direct) of A.5, summed over action dimensions.
 */
export function gaussianKl(mean1: number, logStd1: number, mean2: number, logStd2: number): number {
  const ratio = Math.exp(2 * (logStd1 - logStd2));
  const d = (mean1 - mean2) / Math.exp(logStd2);
  return logStd2 - logStd1 + 0.5 * (ratio + d * d) - 0.5;
}
