/**
 * The SAC-side maths of an update, once, as small pure functions on plain numbers and arrays: the soft Q
 * target, the Q-networks' TD loss and its gradient, and the temperature loss and its gradient (Haarnoja et
 * al., 2018b;c; paper Sec. 4.1). The policy-side maths (Eq. 11, 12, the tanh-Gaussian) is lib/policy/maths.ts.
 *
 * Both update paths use these: the tfjs path (agent.ts) computes its Q target with softQTarget, and writes the
 * TD and temperature losses as tf ops so tfjs can differentiate them (temperature.ts, agent.ts); the native
 * path (fused-update.ts) calls all of them. tests/agents/sac-maths.test.ts checks them against hand-computed values
 * and finite differences, and the tf forms against them on random inputs. Values are float32 where tf's are:
 * each function rounds where a float32 tf op would, so both paths give the same bits.
 */
import type { TemperatureLoss } from "./config";

/**
 * Soft Q target y = r + γ(1 − d)·V(s'), V(s') = E_π[Q_pess,target(s', a')] − α KL(π(·|s') || p) (Eq. 12, 14),
 * for a transition with reward r, done flag d ∈ {0, 1} (the episode ended at s': no bootstrap) and V(s').
 * Rounded as tf computes it in float32: (1 − d), its product with V, γ, the product with γ, the sum.
 */
export function softQTarget(reward: number, gamma: number, done: number, nextValue: number): number {
  return Math.fround(reward + Math.fround(Math.fround(gamma) * Math.fround(Math.fround(1 - done) * nextValue)));
}

/**
 * The TD loss of one Q-network, L = mean_s (Q(s, a) − y)², and into `dq` its gradient ∂L/∂Q = (1/B)·2(Q − y)
 * (tf's order: the mean's 1/B times squaredDifference's 2(Q − y), each in float32).
 * @param q, y [B]  @param dq [B], written  @returns L (the float32 squares summed in double, over B)
 */
export function tdLoss(q: ArrayLike<number>, y: ArrayLike<number>, dq: Float32Array): number {
  const B = q.length;
  const invB = Math.fround(1 / B);
  let loss = 0;
  for (let s = 0; s < B; s++) {
    const d = Math.fround(q[s] - y[s]);
    loss += d * d;
    dq[s] = invB * Math.fround(2 * d);
  }
  return loss / B;
}

/**
 * Automatic temperature (Haarnoja et al., 2018c): L(log α) = −log α·(E[log π(a|s)] + H_target), H_target = −|A|
 * (A.4), with the batch mean of log π held constant. In float32 as tf computes it.
 */
export function temperatureLossValue(logAlpha: number, meanLogProb: number, targetEntropy: number): number {
  return Math.fround(-(logAlpha * Math.fround(meanLogProb + targetEntropy)));
}

/** ∂L/∂log α = −(E[log π] + H_target): α grows while the entropy −E[log π] is below its target. */
export function temperatureLossGrad(meanLogProb: number, targetEntropy: number): number {
  return -Math.fround(meanLogProb + targetEntropy);
}

/**
 * The temperature loss in α (SacConfig.temperatureLoss "alpha"): L = −α·(E[log π] + H_target), Haarnoja et al.
 * 2018c's form and the authors' code's, whose −α·(KL − |A|(1 + ln 2)) with KL = E[log π] + |A| ln 2 is the same
 * value. In float32 as tf computes it: α = exp(log α) rounded, then the product.
 */
export function alphaTemperatureLossValue(logAlpha: number, meanLogProb: number, targetEntropy: number): number {
  return Math.fround(-(Math.fround(Math.exp(logAlpha)) * Math.fround(meanLogProb + targetEntropy)));
}

/** ∂L/∂log α of the α form: −α·(E[log π] + H_target), the log-α form's gradient scaled by α (the same fixed point). */
export function alphaTemperatureLossGrad(logAlpha: number, meanLogProb: number, targetEntropy: number): number {
  return Math.fround(temperatureLossGrad(meanLogProb, targetEntropy) * Math.fround(Math.exp(logAlpha)));
}

/** The temperature loss of the given form (SacConfig.temperatureLoss) and its gradient w.r.t. log α. */
export function temperatureLossAndGrad(form: TemperatureLoss, logAlpha: number, meanLogProb: number, targetEntropy: number): { loss: number; grad: number } {
  return form === "alpha"
    ? { loss: alphaTemperatureLossValue(logAlpha, meanLogProb, targetEntropy), grad: alphaTemperatureLossGrad(logAlpha, meanLogProb, targetEntropy) }
    : { loss: temperatureLossValue(logAlpha, meanLogProb, targetEntropy), grad: temperatureLossGrad(meanLogProb, targetEntropy) };
}
