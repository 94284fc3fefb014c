/**
 * The policy at the future steps of a model rollout (A.5, "Future Policy Estimates"): a direct network λ = f(s).
 * With a direct agent it is a copy of the agent's own policy network, so the rollout's future steps send no
 * gradient into the policy being trained (the authors' code evaluates them on copied parameters). With an
 * iterative agent it is a separate direct network of Table 2's shape, distilled from the iterative optimizer
 * through KL(π_iterative || π_direct).
 */
import { tf } from "../../backend/tf";
import type { Rng } from "../../core/rng";
import { POLICY_NETWORK } from "../../nn/architectures";
import { stopGradient } from "../../nn/stop-gradient";
import type { Activation } from "../../backend/ops";
import { DirectAmortizedOptimizer, type DirectOptimizerConfig } from "../../policy/direct";
import type { PolicyParams } from "../../policy/params";

/**
 * KL(N(μ1, σ1²) || N(μ2, σ2²)) summed over action dimensions, per state: the tf form of gaussianKl in maths.ts
 * (equal to the KL between the tanh-squashed policies). @param p, q [B, |A|] each  @returns [B]
 */
export function gaussianKlPerState(p: PolicyParams, q: PolicyParams): tf.Tensor1D {
  return tf.tidy(() => {
    const ratio = tf.exp(tf.mul(2, tf.sub(p.logStd, q.logStd)));
    const d = tf.div(tf.sub(p.mean, q.mean), tf.exp(q.logStd));
    const perDim = tf.sub(tf.add(tf.sub(q.logStd, p.logStd), tf.mul(0.5, tf.add(ratio, tf.square(d)))), 0.5);
    return tf.sum(perDim, 1) as tf.Tensor1D;
  });
}

export class RolloutPolicy {
  readonly network: DirectAmortizedOptimizer;

  /** `head`: the agent's bounds on log σ and network start, so a copy of a direct agent's network gives its λ. */
  constructor(
    observationSize: number, actionSize: number, network: { hiddenSizes: number[]; activation: Activation }, rng: Rng,
    head: Pick<DirectOptimizerConfig, "logStdBounds" | "init"> = {},
  ) {
    const body = { ...POLICY_NETWORK, hiddenSizes: network.hiddenSizes.slice(), activation: network.activation };
    this.network = new DirectAmortizedOptimizer({ network: body, ...head }, observationSize, actionSize, rng);
  }

  /** λ = f(s) for states [B, obs]. */
  lambda(states: tf.Tensor2D): PolicyParams {
    return this.network.policyParams(states);
  }

  /** Becomes a copy of a direct agent's policy network (same shapes). */
  copyFrom(policy: DirectAmortizedOptimizer): void {
    this.network.params.copyFrom(policy.params);
  }

  /**
   * One Adam step on mean_s KL(π_iterative(·|s) || π_direct(·|s)) towards `target` (the iterative optimizer's λ at
   * `states`, a constant here). Returns the KL before the step. `optimizer` is an Adam over this network.
   */
  distillStep(states: tf.Tensor2D, target: PolicyParams, optimizer: tf.Optimizer): number {
    const fixed = { mean: stopGradient(target.mean), logStd: stopGradient(target.logStd) };
    const step = tf.variableGrads(() => tf.tidy(() => {
      const own = this.lambda(states);
      return tf.mean(gaussianKlPerState(fixed, own)) as tf.Scalar;
    }), this.network.params.variables());
    optimizer.applyGradients(this.network.params.gradientMap(step.grads));
    const kl = step.value.dataSync()[0];
    tf.dispose([step.value, ...Object.values(step.grads), fixed.mean, fixed.logStd]);
    return kl;
  }

  dispose(): void {
    this.network.dispose();
  }
}
