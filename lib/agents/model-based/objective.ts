/**
 * J (Eq. 7) on the model-based value estimate: the variational objective with Q_pess(s, a) replaced by Q̂(s, a) of
 * Eq. 13, so every policy optimizer (direct, iterative, the baselines) maximises it unchanged, and an iterative
 * optimizer trained on model-free values can be handed it as it is (zero-shot transfer, Fig. 8d).
 */
import { tf } from "../../backend/tf";
import { pessimisticQ, VariationalObjective, type VariationalObjectiveOptions } from "../../policy/objective";
import type { PolicyParams } from "../../policy/params";
import type { LearnedModel } from "./model";
import { modelBasedQ, type RolloutParts } from "./rollout";

export interface ModelBasedObjectiveOptions extends VariationalObjectiveOptions {
  model: LearnedModel;
  /** λ of the rollout policy at future states. */
  rolloutPolicy: (states: tf.Tensor2D) => PolicyParams;
  /** Model steps h. */
  horizon: number;
  gamma: number;
  retraceLambda: number;
}

export class ModelBasedObjective extends VariationalObjective {
  private readonly parts: RolloutParts;
  private fixed = false;
  /** The rollout noise reused while fixed noise is set (drawn at the first evaluation of each size). */
  private fixedRolloutNoise: Float32Array | null = null;

  constructor(readonly modelOptions: ModelBasedObjectiveOptions) {
    super(modelOptions);
    const o = modelOptions;
    this.parts = {
      value: (s, a) => tf.tidy(() => {
        const [q1, q2] = o.q(s, a);
        return pessimisticQ(q1, q2, o.beta, o.pessimismStd);
      }),
      alpha: o.alpha,
      model: o.model,
      policy: o.rolloutPolicy,
      horizon: o.horizon,
      gamma: o.gamma,
      retraceLambda: o.retraceLambda,
    };
  }

  /** With fixed action noise the rollout's noise is fixed too: drawn once from the Rng, then reused. */
  override setFixedNoise(noise: Float32Array | null): void {
    super.setFixedNoise(noise);
    this.fixed = noise !== null;
    this.fixedRolloutNoise = null;
  }

  /** Q̂ of Eq. 13 for each sampled action; the rollout noise [h, M, |A|] is drawn after the action noise. */
  override actionValues(states: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const h = this.parts.horizon;
    const shape: [number, number, number] = [h, states.shape[0], this.actionSize];
    const n = shape[0] * shape[1] * shape[2];
    let values: Float32Array;
    if (this.fixed) {
      if (this.fixedRolloutNoise?.length !== n) this.fixedRolloutNoise = this.options.rng.fillNormal(new Float32Array(n)) as Float32Array;
      values = this.fixedRolloutNoise;
    } else {
      values = this.options.rng.fillNormal(new Float32Array(n)) as Float32Array;
    }
    return modelBasedQ(this.parts, states, actions, tf.tensor3d(values, shape));
  }
}
