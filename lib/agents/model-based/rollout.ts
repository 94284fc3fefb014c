/**
 * Eq. 13 as tf ops: unroll the learned model and the rollout policy for h steps from (s_t, a_t), apply the
 * Q-networks to every state–action estimate, and combine rewards and values with Retrace's weights (the formula's
 * home is retraceEstimate in maths.ts, whose coefficients these ops read). Gradients flow to a_t through the model,
 * the rollout policy's λ(s_k) and the Q-networks, whose parameters the policy loss never updates (A.5).
 */
import { tf } from "../../backend/tf";
import { klToUniformPriorSamples, sampleTanhGaussian } from "../../policy/tanh-gaussian";
import type { PolicyParams } from "../../policy/params";
import type { LearnedModel } from "./model";
import { retraceCoefficient } from "./maths";

/** What a rollout runs on. */
export interface RolloutParts {
  /** The value of state–action pairs, Q_pess of Eq. 12 on the chosen Q-networks: [M, obs], [M, |A|] -> [M]. */
  value: (states: tf.Tensor2D, actions: tf.Tensor2D) => tf.Tensor1D;
  /** Temperature α (a number, or a scalar tensor the caller owns). */
  alpha: number | tf.Scalar;
  model: LearnedModel;
  /** λ of the policy at future states (the direct rollout policy, A.5): [M, obs] -> [M, |A|] each. */
  policy: (states: tf.Tensor2D) => PolicyParams;
  /** Model steps h. */
  horizon: number;
  gamma: number;
  /** Retrace's λ. */
  retraceLambda: number;
}

/** One unrolled rollout, per row: s_0..s_h, a_0..a_h, r̂_0..r̂_{h−1}, c_1..c_h (KL costs α(log π − log p)). */
export interface Rollout {
  states: tf.Tensor2D[];
  actions: tf.Tensor2D[];
  rewards: tf.Tensor1D[];
  klCosts: tf.Tensor1D[];
}

/** What an unroll needs: the model, the rollout policy, h and α. */
export type UnrollParts = Pick<RolloutParts, "alpha" | "model" | "policy" | "horizon">;

/**
 * Unrolls from states [M, obs] and actions [M, |A|]. Future actions are sampled from the rollout policy with
 * `noise` [h, M, |A|] (reparameterised), or are its means tanh(μ) when `noise` is null (a planned trajectory).
 * Call inside tf.tidy.
 */
export function unroll(parts: UnrollParts, states: tf.Tensor2D, actions: tf.Tensor2D, noise: tf.Tensor3D | null): Rollout {
  const out: Rollout = { states: [states], actions: [actions], rewards: [], klCosts: [] };
  let s = states;
  let a = actions;
  for (let k = 0; k < parts.horizon; k++) {
    const next = parts.model.predict(s, a);
    out.rewards.push(next.reward);
    s = next.nextState;
    const lambda = parts.policy(s);
    // one reparameterised action per row: u = μ + σ ε (or u = μ), a = tanh u, and its single-sample KL to the prior
    const eps = noise ? tf.slice(noise, [k, 0, 0], [1, -1, -1]) as tf.Tensor3D : tf.zeros([1, s.shape[0], lambda.mean.shape[1]]) as tf.Tensor3D;
    const { u, action } = sampleTanhGaussian(lambda, eps);
    a = action.reshape(lambda.mean.shape) as tf.Tensor2D;
    out.klCosts.push(tf.mul(parts.alpha, klToUniformPriorSamples(lambda, u, eps).reshape([-1])) as tf.Tensor1D);
    out.states.push(s);
    out.actions.push(a);
  }
  return out;
}

/** Q̂ of Eq. 13 per row from Q_0..Q_h along rollout `r`: Q_0 + Σ_k (γλ)^k (r̂_k + γ(Q_{k+1} − c_{k+1}) − Q_k). [M]. Call inside tf.tidy. */
export function retraceCombine(q: tf.Tensor1D[], r: Rollout, gamma: number, lambda: number): tf.Tensor1D {
  let estimate = q[0];
  for (let k = 0; k < r.rewards.length; k++) {
    const delta = tf.sub(tf.add(r.rewards[k], tf.mul(gamma, tf.sub(q[k + 1], r.klCosts[k]))), q[k]);
    estimate = tf.add(estimate, tf.mul(retraceCoefficient(k, gamma, lambda), delta));
  }
  return estimate;
}

/** The model-based estimate Q̂(s, a) of Eq. 13 for states [M, obs] and actions [M, |A|], rollout noise [h, M, |A|]. */
export function modelBasedQ(parts: RolloutParts, states: tf.Tensor2D, actions: tf.Tensor2D, noise: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const r = unroll(parts, states, actions, noise);
    return retraceCombine(r.states.map((s, k) => parts.value(s, r.actions[k])), r, parts.gamma, parts.retraceLambda);
  });
}

/**
 * The trajectory the model plans from states [M, obs] under λ (Fig. 8b): a_0 = tanh(μ), then the rollout
 * policy's mean actions; s_0..s_h, each [M, obs] row-major.
 */
export function plannedStates(parts: Omit<UnrollParts, "alpha">, states: tf.Tensor2D, lambda: PolicyParams): Float32Array[] {
  return tf.tidy(() => unroll({ ...parts, alpha: 0 }, states, tf.tanh(lambda.mean) as tf.Tensor2D, null).states.map((s) => Float32Array.from(s.dataSync() as Float32Array)));
}
