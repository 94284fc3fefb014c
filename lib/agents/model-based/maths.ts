/**
 * The maths of the model-based value estimate, once, as small pure functions on plain numbers and arrays: the
 * Retrace-weighted estimate of Eq. 13, the Gaussian log-likelihood the model is fitted by (A.5), and the KL
 * between two Gaussians that distils the rollout policy, with the gradients a hand-written update needs: those of
 * the likelihood and the KL, Eq. 13's weights on each of its terms, and ∂Q̂/∂a_0 by reverse accumulation through
 * the rollout (retraceActionGradient). The tf forms (rollout.ts, model.ts, rollout-policy.ts)
 * write the same formulas as tf ops for autodiff, reading their coefficients from here;
 * tests/agents/model-based-maths.test.ts checks these against hand-computed values and the tf forms against these.
 */

import { reparameterizedGradLogStd, reparameterizedGradMean } from "../../policy/maths";

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

/** ∂/∂μ of gaussianNegLogLikelihood: −(x − μ)/σ². */
export function gaussianNllGradMean(x: number, mean: number, logStd: number): number {
  return -(x - mean) * Math.exp(-2 * logStd);
}

/** ∂/∂log σ of gaussianNegLogLikelihood: 1 − z², z = (x − μ)/σ. */
export function gaussianNllGradLogStd(x: number, mean: number, logStd: number): number {
  const z = (x - mean) / Math.exp(logStd);
  return 1 - z * z;
}

/** ∂/∂μ2 of gaussianKl (the distilled policy's mean): −(μ1 − μ2)/σ2². */
export function gaussianKlGradMean2(mean1: number, logStd1: number, mean2: number, logStd2: number): number {
  return -(mean1 - mean2) * Math.exp(-2 * logStd2);
}

/** ∂/∂log σ2 of gaussianKl: 1 − (σ1² + (μ1 − μ2)²)/σ2². */
export function gaussianKlGradLogStd2(mean1: number, logStd1: number, mean2: number, logStd2: number): number {
  const d = mean1 - mean2;
  return 1 - (Math.exp(2 * logStd1) + d * d) * Math.exp(-2 * logStd2);
}

/**
 * Q̂ of Eq. 13 is linear in its terms: its partial derivatives, with w_k = (γλ)^k,
 *   ∂Q̂/∂r̂_k = w_k,   ∂Q̂/∂c_{k+1} = −γ w_k,   ∂Q̂/∂Q_0 = 1 − w_0 (0 for h ≥ 1),
 *   ∂Q̂/∂Q_k = γ w_{k−1} − w_k = γ(γλ)^{k−1}(1 − λ) for 0 < k < h,   ∂Q̂/∂Q_h = γ w_{h−1}.
 * The reverse pass through a rollout (retraceActionGradient) starts from these.
 */
export interface RetraceWeights {
  /** [h + 1]: on Q_0..Q_h. */
  q: Float64Array;
  /** [h]: on r̂_0..r̂_{h−1}. */
  rewards: Float64Array;
  /** [h]: on c_1..c_h. */
  klCosts: Float64Array;
}

export function retraceWeights(horizon: number, gamma: number, lambda: number): RetraceWeights {
  const w = (k: number): number => retraceCoefficient(k, gamma, lambda);
  const q = new Float64Array(horizon + 1);
  const rewards = new Float64Array(horizon);
  const klCosts = new Float64Array(horizon);
  q[0] = horizon === 0 ? 1 : 0;
  for (let k = 0; k < horizon; k++) {
    rewards[k] = w(k);
    klCosts[k] = -gamma * w(k);
    // Q_{k+1} enters δ_k with γ w_k and δ_{k+1} (if any) with −w_{k+1}
    q[k + 1] = gamma * w(k) - (k + 1 < horizon ? w(k + 1) : 0);
  }
  return { q, rewards, klCosts };
}

/** A batch of vectors, [rows, size] row-major. */
export type Rows = Float32Array | Float64Array;

/**
 * Vector–Jacobian products of a rollout's networks at its recorded steps (what a backward pass through each
 * network gives), for the reverse pass of retraceActionGradient. Rows M (states × samples); sizes O, |A|.
 */
export interface RolloutVjps {
  /**
   * The model's step k, (s_k, a_k) ↦ (s_{k+1} = s_k + Δs, r̂_k), given d s_{k+1} [M, O] and d r̂_k [M]:
   * d s_k [M, O] (the residual's identity included) and d a_k [M, |A|].
   */
  model(k: number, dNextState: Rows, dReward: Rows): { dState: Rows; dAction: Rows };
  /** Q_k = Q_pess(s_k, a_k) (Eq. 12, both networks), given d Q_k [M]: d s_k and d a_k. */
  value(k: number, dq: Rows): { dState: Rows; dAction: Rows };
  /** λ_k = the rollout policy at s_k (k ≥ 1, its log σ bounds included), given d μ_k, d log σ_k [M, |A|]: d s_k. */
  policy(k: number, dMean: Rows, dLogStd: Rows): Rows;
}

/** What the rollout drew at steps k = 1..h (index k − 1): a_k = tanh(μ_k + σ_k ε_k), each [M, |A|]. */
export interface RolloutSamples {
  actions: Rows[];
  noise: Rows[];
  sigma: Rows[];
}

/**
 * ∂Q̂/∂a_0 of Eq. 13 along rollouts from (s_0, a_0), by reverse accumulation from step h to 0: at step k the
 * gradient on a_k and s_k gathers Q_k's weight through the Q-networks, r̂_k's and s_{k+1}'s through the model,
 * and for k ≥ 1, through the reparameterised a_k = tanh(μ_k + σ_k ε_k) and the KL cost
 * c_k = α(log π(a_k|s_k) − log p(a_k)) (weight −γ w_{k−1}), ∇λ_k (lib/policy/maths.ts) back through the
 * rollout policy to s_k. The state s_0 is fixed (its gradient is not returned). @returns [M, |A|]
 */
export function retraceActionGradient(
  shape: { rows: number; observationSize: number; actionSize: number },
  horizon: number, gamma: number, lambda: number, alpha: number,
  samples: RolloutSamples, vjps: RolloutVjps,
): Float64Array {
  const { rows: M, observationSize: O, actionSize: A } = shape;
  const w = retraceWeights(horizon, gamma, lambda);
  let dNext: Float64Array | null = null; // d s_{k+1}
  for (let k = horizon; k >= 0; k--) {
    const dState = new Float64Array(M * O);
    const dAction = new Float64Array(M * A);
    const add = (into: Float64Array, from: Rows): void => {
      for (let i = 0; i < into.length; i++) into[i] += from[i];
    };
    if (w.q[k] !== 0) {
      const v = vjps.value(k, new Float64Array(M).fill(w.q[k]));
      add(dState, v.dState);
      add(dAction, v.dAction);
    }
    if (k < horizon) {
      const m = vjps.model(k, dNext as Float64Array, new Float64Array(M).fill(w.rewards[k]));
      add(dState, m.dState);
      add(dAction, m.dAction);
    }
    if (k === 0) return dAction;
    const a = samples.actions[k - 1];
    const eps = samples.noise[k - 1];
    const sigma = samples.sigma[k - 1];
    const c = w.klCosts[k - 1] * alpha;
    const dMean = new Float64Array(M * A);
    const dLogStd = new Float64Array(M * A);
    for (let i = 0; i < M * A; i++) {
      dMean[i] = reparameterizedGradMean(dAction[i], a[i], eps[i], sigma[i], c);
      dLogStd[i] = reparameterizedGradLogStd(dAction[i], a[i], eps[i], sigma[i], c);
    }
    add(dState, vjps.policy(k, dMean, dLogStd));
    dNext = dState;
  }
  throw new RangeError(`retraceActionGradient: horizon must be >= 0, got ${horizon}`);
}
