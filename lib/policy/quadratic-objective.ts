/**
 * A family of known objectives over λ for testing and illustrating optimizers:
 *   J(λ) = c − Σ_i [ (μ_i − μ*_i)² + (log σ_i − ℓ*_i)² ],   maximum J* = c at λ = (μ*, ℓ*),
 * with (μ*, ℓ*) drawn per state and hidden from the optimizer (the "state" it sees carries no information),
 * so a direct optimizer can only learn the average while an iterative one can find each optimum from ∇λ J.
 */
import { tf } from "../backend/tf";
import type { Rng } from "../core/rng";
import type { ObjectiveTerms, PolicyObjective } from "./objective";
import type { PolicyParams } from "./params";

export class QuadraticObjective implements PolicyObjective {
  readonly actionSize: number;

  /** @param optimum λ* per state [batch, |A|] each (owned by the objective)  @param offset c = J* */
  constructor(readonly optimum: PolicyParams, readonly offset = 0) {
    this.actionSize = optimum.mean.shape[1];
  }

  /** A random member: μ* ~ U(-1, 1), log σ* ~ U(log 0.1, log 1) per state and dimension. */
  static sample(rng: Rng, batch: number, actionSize: number, offset = 0): QuadraticObjective {
    const n = batch * actionSize;
    const mean = new Float32Array(n).map(() => rng.uniform(-1, 1));
    const logStd = new Float32Array(n).map(() => rng.uniform(Math.log(0.1), 0));
    return new QuadraticObjective({ mean: tf.tensor2d(mean, [batch, actionSize]), logStd: tf.tensor2d(logStd, [batch, actionSize]) }, offset);
  }

  /** A λ batch of k·batch rows is read as k copies of the states in order (as CEM scores its population). */
  evaluate(_states: tf.Tensor2D, lambda: PolicyParams): ObjectiveTerms {
    return tf.tidy(() => {
      const copies = lambda.mean.shape[0] / this.optimum.mean.shape[0];
      const tile = (t: tf.Tensor2D): tf.Tensor2D => (copies === 1 ? t : tf.tile(t, [copies, 1]));
      const d = tf.add(tf.sum(tf.square(tf.sub(lambda.mean, tile(this.optimum.mean))), 1), tf.sum(tf.square(tf.sub(lambda.logStd, tile(this.optimum.logStd))), 1));
      return { j: tf.sub(this.offset, d) as tf.Tensor1D };
    });
  }

  /** (J* − J(λ)) / (J* − J(λ0)) per state: the fraction of the starting gap still left (0 = at the optimum). */
  relativeGap(lambda: PolicyParams, start: PolicyParams): tf.Tensor1D {
    return tf.tidy(() => {
      const dummy = tf.zeros([lambda.mean.shape[0], 1]) as tf.Tensor2D;
      const gap = (p: PolicyParams): tf.Tensor => tf.sub(this.offset, this.evaluate(dummy, p).j);
      return tf.div(gap(lambda), gap(start)) as tf.Tensor1D;
    });
  }

  dispose(): void {
    this.optimum.mean.dispose();
    this.optimum.logStd.dispose();
  }
}
