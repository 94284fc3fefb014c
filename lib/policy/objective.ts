/**
 * The variational RL objective at one time step (Eq. 7), the quantity every policy optimizer maximises:
 *   J(s, λ) = E_{a~π(·|s;λ)}[Q(s, a)] − α KL(π(·|s; λ) || p(a)),   p = U(-1, 1)^|A|,
 * estimated with N reparameterised samples on the pessimistic value of Eq. 12.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import { PESSIMISM_STDS, pessimismStdFactor, type PessimismStd } from "./maths";
import type { PolicyParams } from "./params";
import { klToUniformPriorSamples, sampleTanhGaussian } from "./tanh-gaussian";

/** J per state and, where the objective has them, its parts. All [batch]. */
export type ObjectiveTerms = {
  /** J(s, λ). */
  j: tf.Tensor1D;
  /** E_π[Q_pess(s, a)] estimate. */
  q?: tf.Tensor1D;
  /** E_π[log π(a|s)] estimate (minus the entropy). */
  logProb?: tf.Tensor1D;
};

/** Anything a policy optimizer can maximise over λ, per state. Must be differentiable in λ. */
export interface PolicyObjective {
  /** Action dimensions |A|. */
  readonly actionSize: number;
  /** @param states [batch, obs]  @param lambda [batch, |A|] each. New noise is drawn on every call. */
  evaluate(states: tf.Tensor2D, lambda: PolicyParams): ObjectiveTerms;
}

/**
 * Eq. 12: Q_pess = mean(Q1, Q2) − β·std(Q1, Q2), with the population std |Q1 − Q2| / 2 (default: β = 1 is
 * exactly min(Q1, Q2)) or the unbiased std |Q1 − Q2| / √2 (the authors' code). Shapes: any, equal. As tf ops for
 * autodiff; the home of the formula is pessimisticQValue in maths.ts (tests/policy/maths.test.ts compares them).
 */
export function pessimisticQ<T extends tf.Tensor>(q1: T, q2: T, beta: number, std: PessimismStd = "population"): T {
  return tf.tidy(() => tf.sub(tf.mul(tf.add(q1, q2), 0.5), tf.mul(tf.abs(tf.sub(q1, q2)), pessimismStdFactor(std) * beta)) as T);
}

/** Two Q functions evaluated on the same inputs. states [M, obs], actions [M, |A|] -> [M] each. */
export type QPair = (states: tf.Tensor2D, actions: tf.Tensor2D) => [tf.Tensor1D, tf.Tensor1D];

export interface VariationalObjectiveOptions {
  /** Q1, Q2 (online or target networks). */
  q: QPair;
  /** Temperature α ≥ 0: a number, or a scalar tensor (not differentiated; owned by the caller). */
  alpha: number | tf.Scalar;
  /** Pessimism β of Eq. 12 (1 = min of the two with the population std). */
  beta: number;
  /** The std of Eq. 12 (default "population"; "unbiased" is the authors' code's, √2 larger). */
  pessimismStd?: PessimismStd;
  /** N, reparameterised action samples per state per evaluation. */
  samples: number;
  /** |A|. */
  actionSize: number;
  /** Source of the sampling noise. */
  rng: Rng;
}

/** Eq. 7 on a learned pair of Q-networks (Eq. 12), with the uniform action prior of SAC. */
export class VariationalObjective implements PolicyObjective {
  readonly actionSize: number;
  private fixedNoise: Float32Array | null = null;

  constructor(readonly options: VariationalObjectiveOptions) {
    if (!Number.isInteger(options.samples) || options.samples < 1) throw new ConfigError(`objective samples must be an integer >= 1, got ${options.samples}`);
    if (!(options.beta >= 0)) throw new ConfigError(`objective beta must be >= 0, got ${options.beta}`);
    if (options.pessimismStd !== undefined && !PESSIMISM_STDS.includes(options.pessimismStd)) {
      throw new ConfigError(`objective pessimismStd must be one of ${PESSIMISM_STDS.join(", ")}, got ${JSON.stringify(options.pessimismStd)}`);
    }
    this.actionSize = options.actionSize;
  }

  /** Draws ε ~ N(0, I), [N, batch, |A|], from the objective's Rng (or the fixed noise when set). */
  drawNoise(batch: number): tf.Tensor3D {
    const shape: [number, number, number] = [this.options.samples, batch, this.actionSize];
    const n = shape[0] * shape[1] * shape[2];
    if (this.fixedNoise) {
      if (this.fixedNoise.length !== n) throw new ConfigError(`fixed noise has ${this.fixedNoise.length} values, need ${n}`);
      return tf.tensor3d(this.fixedNoise, shape);
    }
    return tf.tensor3d(this.options.rng.fillNormal(new Float32Array(n)) as Float32Array, shape);
  }

  /** Use the same noise on every evaluation (finite-difference checks, landscapes); null to resample again. */
  setFixedNoise(noise: Float32Array | null): void {
    this.fixedNoise = noise;
  }

  /**
   * The value of each action, Q_pess(s, a) of Eq. 12 here; an objective on another value estimate (the
   * model-based one of Eq. 13) overrides it. evaluate calls it after drawing the action noise; action scorers
   * (action CEM) call it on their own samples. @param states [M, obs]  @param actions [M, |A|]  @returns [M]
   */
  actionValues(states: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const [q1, q2] = this.options.q(states, actions);
    return pessimisticQ(q1, q2, this.options.beta, this.options.pessimismStd);
  }

  evaluate(states: tf.Tensor2D, lambda: PolicyParams): ObjectiveTerms {
    return tf.tidy(() => {
      const [batch, obsSize] = states.shape;
      const n = this.options.samples;
      const noise = this.drawNoise(batch);
      const { u, action } = sampleTanhGaussian(lambda, noise);
      const logProbSamples = klToUniformPriorSamples(lambda, u, noise); // log π − log p, [N, batch]
      const tiledStates = n === 1 ? states : (tf.tile(tf.expandDims(states, 0), [n, 1, 1]).reshape([n * batch, obsSize]) as tf.Tensor2D);
      const q = tf.mean(this.actionValues(tiledStates, action.reshape([n * batch, this.actionSize]) as tf.Tensor2D).reshape([n, batch]), 0) as tf.Tensor1D;
      const kl = tf.mean(logProbSamples, 0) as tf.Tensor1D;
      const j = tf.sub(q, tf.mul(this.options.alpha, kl)) as tf.Tensor1D;
      const logProb = tf.add(kl, -this.actionSize * Math.LN2) as tf.Tensor1D;
      return { j, q, logProb };
    });
  }
}

export function disposeTerms(t: ObjectiveTerms): void {
  t.j.dispose();
  t.q?.dispose();
  t.logProb?.dispose();
}
