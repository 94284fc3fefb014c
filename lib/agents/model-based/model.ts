/**
 * The learned model of A.5 (Table 7): a reward network and a state-transition network, each an MLP on (s, a)
 * with Leaky ReLU and layer normalisation, each the mean of a Gaussian whose standard deviation is a separate,
 * learned, state-independent parameter. The transition network predicts the residual Δs, μ_{s'} = s + Δs. Fitted
 * by maximum likelihood on replay batches; rollouts use the means (a deterministic model, Sec. 4.2.5).
 */
import { tf } from "../../backend/tf";
import type { HeapLayer } from "../../backend/heap-mlp";
import type { Rng } from "../../core/rng";
import { Mlp } from "../../nn/mlp";
import { ParameterSet } from "../../nn/parameters";
import type { ReplayBatch } from "../replay-buffer";

/** Bounds on the model's log σ: below, the likelihood's gradients on the means would scale without limit. */
export const MODEL_LOG_STD_MIN = -10;
export const MODEL_LOG_STD_MAX = 2;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** The model's prediction for a batch: next-state means [B, obs] and reward means [B]. */
export interface ModelPrediction {
  nextState: tf.Tensor2D;
  reward: tf.Tensor1D;
}

/** Negative log-likelihoods per example, averaged over the batch (summed over dimensions): scalars. */
export interface ModelLoss {
  state: tf.Scalar;
  reward: tf.Scalar;
}

/**
 * Σ over the last axis of −log N(x; μ, σ²), averaged over the batch (the tf form of gaussianNegLogLikelihood in
 * maths.ts). @param x, mean [B, D]  @param logStd [D]
 */
export function gaussianNll(x: tf.Tensor2D, mean: tf.Tensor2D, logStd: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const z = tf.div(tf.sub(x, mean), tf.exp(logStd));
    const perDim = tf.add(tf.add(tf.mul(0.5, tf.square(z)), logStd), HALF_LOG_2PI);
    return tf.mean(tf.sum(perDim, 1)) as tf.Scalar;
  });
}

export class LearnedModel {
  /** Every weight of both networks and both log σ, under "reward/" and "transition/". */
  readonly params = new ParameterSet();
  private readonly rewardNet: Mlp;
  private readonly transitionNet: Mlp;

  constructor(readonly observationSize: number, readonly actionSize: number, hiddenSizes: number[], rng: Rng) {
    const body = { hiddenSizes: hiddenSizes.slice(), activation: "leakyrelu" as const, layerNorm: true, connectivity: "sequential" as const, inputSize: observationSize + actionSize };
    // output layers start at zero (the authors' code): Δs = 0 and r̂ = 0 until the model has seen data
    this.rewardNet = Mlp.create({ ...body, outputSize: 1, outputInit: "zeros" }, rng.fork(), this.params, "reward/");
    this.transitionNet = Mlp.create({ ...body, outputSize: observationSize, outputInit: "zeros" }, rng.fork(), this.params, "transition/");
    this.params.add("reward/log_std", tf.zeros([1]));
    this.params.add("transition/log_std", tf.zeros([observationSize]));
  }

  /** log σ of the reward [1] and of the next state [obs], clipped to the bounds. */
  logStds(): { reward: tf.Tensor1D; state: tf.Tensor1D } {
    return tf.tidy(() => ({
      reward: tf.clipByValue(this.params.get("reward/log_std"), MODEL_LOG_STD_MIN, MODEL_LOG_STD_MAX) as tf.Tensor1D,
      state: tf.clipByValue(this.params.get("transition/log_std"), MODEL_LOG_STD_MIN, MODEL_LOG_STD_MAX) as tf.Tensor1D,
    }));
  }

  /**
   * Both networks as the native passes run them (lib/backend/heap-mlp.ts; Δs and r̂ before the residual), and
   * the raw log σ variables (before their bounds), for the hand-written fit (fused/model-fit.ts).
   */
  heapForm(): { reward: HeapLayer[]; transition: HeapLayer[]; rewardLogStd: tf.Variable; stateLogStd: tf.Variable } {
    return {
      reward: this.rewardNet.heapLayers(),
      transition: this.transitionNet.heapLayers(),
      rewardLogStd: this.params.get("reward/log_std"),
      stateLogStd: this.params.get("transition/log_std"),
    };
  }

  /** Means of p(s' | s, a) and r(s, a): s + Δs and r̂. @param states [B, obs]  @param actions [B, |A|] in [-1, 1] */
  predict(states: tf.Tensor2D, actions: tf.Tensor2D): ModelPrediction {
    return tf.tidy(() => {
      const input = tf.concat([states, actions], 1);
      const nextState = tf.add(states, this.transitionNet.apply(input)) as tf.Tensor2D;
      const reward = this.rewardNet.apply(input).reshape([-1]) as tf.Tensor1D;
      return { nextState, reward };
    });
  }

  /** The maximum-likelihood loss on transitions (s, a, r, s'): −log p(s' | s, a) and −log p(r | s, a), batch means. */
  loss(states: tf.Tensor2D, actions: tf.Tensor2D, rewards: tf.Tensor1D, nextStates: tf.Tensor2D): ModelLoss {
    return tf.tidy(() => {
      const input = tf.concat([states, actions], 1);
      const logStd = this.logStds();
      // the residual's likelihood: s' − s against Δs, the same Gaussian as s' against s + Δs
      const state = gaussianNll(tf.sub(nextStates, states) as tf.Tensor2D, this.transitionNet.apply(input), logStd.state);
      const reward = gaussianNll(rewards.reshape([-1, 1]) as tf.Tensor2D, this.rewardNet.apply(input), logStd.reward);
      return { state, reward };
    });
  }

  /**
   * One Adam step of maximum likelihood on a replay batch; returns both losses before the step.
   * `optimizer` must be an Adam over this model's variables (ModelBasedValue owns it).
   */
  fitStep(batch: ReplayBatch, optimizer: tf.Optimizer): { state: number; reward: number } {
    const { size: B, observationSize: O, actionSize: A } = batch;
    let parts: ModelLoss | null = null;
    const step = tf.tidy(() => {
      const s = tf.tensor2d(batch.observations, [B, O]);
      const a = tf.tensor2d(batch.actions, [B, A]);
      const r = tf.tensor1d(batch.rewards);
      const s2 = tf.tensor2d(batch.nextObservations, [B, O]);
      const result = tf.variableGrads(() => {
        const l = this.loss(s, a, r, s2);
        parts = { state: tf.keep(l.state), reward: tf.keep(l.reward) };
        return tf.add(l.state, l.reward) as tf.Scalar;
      }, this.params.variables());
      optimizer.applyGradients(this.params.gradientMap(result.grads));
      return result.value;
    });
    const losses = parts as unknown as ModelLoss;
    const values = { state: losses.state.dataSync()[0], reward: losses.reward.dataSync()[0] };
    tf.dispose([step, losses.state, losses.reward]);
    return values;
  }

  dispose(): void {
    this.params.dispose();
  }
}
