/**
 * The cross-entropy method over ACTIONS, as App B.2 compares it: each iteration samples a population of
 * pre-tanh actions u ~ N(μ, σ²) from the current policy, scores each, fits a Gaussian mean and variance to the
 * elites (B.2: 100 samples, top 10), and moves λ = (μ, log σ) a step towards the fit (B.2: step size 0.01,
 * "the steepest improvement without diverging"). QT-Opt's CEM is the same with 64 samples and the top 6.
 * Each action's score is the integrand of J (Eq. 7): Q_pess(s, a) − α·(log π(a|s; λ) − log p(a)), so with α = 0
 * it is plain Q-value CEM. (CemOptimizer in cem.ts is a different baseline: CEM over λ, scored by J itself.)
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import { VariationalObjective, type PolicyObjective } from "./objective";
import { keepOptimization, keepTerms, type OptimizationStep, type OptimizeOptions, type PolicyOptimization, type PolicyOptimizer } from "./optimizer";
import { LOG_STD_MAX, LOG_STD_MIN, initialPolicyParams, type PolicyParams } from "./params";
import { klToUniformPriorSamples } from "./tanh-gaussian";

export interface ActionCemConfig {
  /** Actions sampled per state per iteration (B.2: 100). */
  population: number;
  /** Elites the Gaussian is fitted to (B.2: 10). */
  elites: number;
  /** λ ← λ + stepSize·(fit − λ) in (μ, log σ); 1 = plain refit (B.2 tuned 0.01). */
  stepSize: number;
  /** Iterations when `iterations` is not given. */
  iterations: number;
  /** σ of λ0 when no `init` is given (μ = 0). */
  initialStd: number;
}

export const DEFAULT_ACTION_CEM_CONFIG: ActionCemConfig = { population: 100, elites: 10, stepSize: 0.01, iterations: 100, initialStd: 1 };

/** Scores of sampled pre-tanh actions u [P, batch, |A|] at states [batch, obs] under λ: [P, batch], higher is better. */
export type ActionScorer = (states: tf.Tensor2D, lambda: PolicyParams, u: tf.Tensor3D) => tf.Tensor2D;

/** J's integrand per action for a VariationalObjective: its value of (s, tanh u) (Q_pess of Eq. 12, or Eq. 13's) − α (log π(tanh u) − log p). */
export function variationalActionScorer(objective: VariationalObjective): ActionScorer {
  const { alpha } = objective.options;
  return (states, lambda, u) =>
    tf.tidy(() => {
      const [P, batch, A] = u.shape;
      const obs = states.shape[1];
      const tiled = tf.tile(tf.expandDims(states, 0), [P, 1, 1]).reshape([P * batch, obs]) as tf.Tensor2D;
      const value = objective.actionValues(tiled, tf.tanh(u).reshape([P * batch, A]) as tf.Tensor2D).reshape([P, batch]);
      return tf.sub(value, tf.mul(alpha, klToUniformPriorSamples(lambda, u))) as tf.Tensor2D;
    });
}

export class ActionCemOptimizer implements PolicyOptimizer {
  readonly kind = "cem" as const;
  readonly params = null;

  /** @param scorer how to score actions; default: `variationalActionScorer` of the objective `optimize` is given. */
  constructor(readonly config: ActionCemConfig, readonly actionSize: number, private readonly rng: Rng, private readonly scorer?: ActionScorer) {
    if (!Number.isInteger(config.population) || config.population < 2) throw new ConfigError(`actionCem.population must be an integer >= 2, got ${config.population}`);
    if (!Number.isInteger(config.elites) || config.elites < 2 || config.elites > config.population) {
      throw new ConfigError(`actionCem.elites must be an integer in [2, population=${config.population}] (a variance needs two), got ${config.elites}`);
    }
    if (!(config.stepSize > 0 && config.stepSize <= 1)) throw new ConfigError(`actionCem.stepSize must be in (0, 1], got ${config.stepSize}`);
  }

  private scorerFor(objective: PolicyObjective): ActionScorer {
    if (this.scorer) return this.scorer;
    if (objective instanceof VariationalObjective) return variationalActionScorer(objective);
    throw new ConfigError("action CEM scores single actions: give it a VariationalObjective or an ActionScorer");
  }

  optimize(states: tf.Tensor2D, objective: PolicyObjective, options: OptimizeOptions = {}): PolicyOptimization {
    const iterations = options.iterations ?? this.config.iterations;
    if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`iterations must be an integer >= 1, got ${iterations}`);
    const score = this.scorerFor(objective);
    const { population: P, elites: E, stepSize } = this.config;
    const batch = states.shape[0];
    const A = this.actionSize;
    let lambda: PolicyParams = options.init
      ? { mean: options.init.mean.clone(), logStd: options.init.logStd.clone() }
      : initialPolicyParams(batch, A, this.config.initialStd);
    const trace: OptimizationStep[] = [];
    for (let k = 0; k < iterations; k++) {
      trace.push({ lambda, terms: keepTerms(tf.tidy(() => objective.evaluate(states, lambda))) });
      const noise = tf.tensor3d(this.rng.fillNormal(new Float32Array(P * batch * A)) as Float32Array, [P, batch, A]);
      const current = lambda;
      lambda = tf.tidy(() => {
        const u = tf.add(current.mean, tf.mul(tf.exp(current.logStd), noise)) as tf.Tensor3D; // [P, batch, |A|]
        const s = score(states, current, u); // [P, batch]
        // Elites: samples scoring at least the E-th best per state (a mask, not a batched gather; see cem.ts).
        const { values } = tf.topk(tf.transpose(s), E);
        const threshold = tf.slice(values, [0, E - 1], [-1, 1]).reshape([1, batch]);
        const mask = tf.expandDims(tf.cast(tf.greaterEqual(s, threshold), "float32"), 2);
        const count = tf.sum(mask, 0);
        const fitMean = tf.div(tf.sum(tf.mul(mask, u), 0), count);
        const fitVar = tf.div(tf.sum(tf.mul(mask, tf.square(tf.sub(u, fitMean))), 0), count);
        const fitLogStd = tf.mul(0.5, tf.log(tf.maximum(fitVar, Math.exp(2 * LOG_STD_MIN))));
        return {
          mean: tf.add(current.mean, tf.mul(stepSize, tf.sub(fitMean, current.mean))) as tf.Tensor2D,
          logStd: tf.clipByValue(tf.add(current.logStd, tf.mul(stepSize, tf.sub(fitLogStd, current.logStd))), LOG_STD_MIN, LOG_STD_MAX) as tf.Tensor2D,
        };
      });
      noise.dispose();
    }
    const evaluateFinal = options.evaluateFinal !== false;
    trace.push({ lambda, terms: evaluateFinal ? keepTerms(tf.tidy(() => objective.evaluate(states, lambda))) : null });
    return keepOptimization({ lambda, trace, loss: null });
  }

  dispose(): void {}
}
