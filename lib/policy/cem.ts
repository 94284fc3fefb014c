/**
 * Non-amortized baseline: the cross-entropy method (Rubinstein & Kroese, 2013) on λ per state. Each iteration
 * samples a population of λ candidates from a diagonal Gaussian search distribution, scores each by J, and
 * refits the search mean and std to the elites (B.2: 100 samples, top 10). The search mean is the estimate.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import type { PolicyObjective } from "./objective";
import { keepOptimization, keepTerms, type OptimizationStep, type OptimizeOptions, type PolicyOptimization, type PolicyOptimizer } from "./optimizer";
import { LOG_STD_MAX, LOG_STD_MIN, initialPolicyParams, type PolicyParams } from "./params";

export interface CemConfig {
  /** Candidates per state per iteration (B.2: 100). */
  population: number;
  /** Elites the search distribution is refitted to (B.2: 10). */
  elites: number;
  /** Starting std of the search distribution over each entry of λ = (μ, log σ). */
  initialSearchStd: number;
  /** Smoothing: search ← search + stepSize·(fit − search); 1 = plain refit. */
  stepSize: number;
  /** Lower bound on the search std, so the search never collapses to a point. */
  minSearchStd: number;
  /** Iterations when `iterations` is not given. */
  iterations: number;
  /** σ of λ0 when no `init` is given (μ = 0). */
  initialStd: number;
}

export const DEFAULT_CEM_CONFIG: CemConfig = {
  population: 100,
  elites: 10,
  initialSearchStd: 0.5,
  stepSize: 1,
  minSearchStd: 1e-4,
  iterations: 100,
  initialStd: 1,
};

export class CemOptimizer implements PolicyOptimizer {
  readonly kind = "cem" as const;
  readonly params = null;

  constructor(readonly config: CemConfig, readonly actionSize: number, private readonly rng: Rng) {
    if (!Number.isInteger(config.population) || config.population < 2) throw new ConfigError(`cem.population must be an integer >= 2, got ${config.population}`);
    if (!Number.isInteger(config.elites) || config.elites < 1 || config.elites > config.population) {
      throw new ConfigError(`cem.elites must be an integer in [1, population=${config.population}], got ${config.elites}`);
    }
    if (!(config.stepSize > 0 && config.stepSize <= 1)) throw new ConfigError(`cem.stepSize must be in (0, 1], got ${config.stepSize}`);
  }

  optimize(states: tf.Tensor2D, objective: PolicyObjective, options: OptimizeOptions = {}): PolicyOptimization {
    const iterations = options.iterations ?? this.config.iterations;
    if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`iterations must be an integer >= 1, got ${iterations}`);
    const { population: P, elites: E, stepSize } = this.config;
    const [batch, obsSize] = states.shape;
    const dims = 2 * this.actionSize;
    const start = options.init ?? initialPolicyParams(batch, this.actionSize, this.config.initialStd);
    let searchMean = tf.concat([start.mean, start.logStd], 1) as tf.Tensor2D; // [batch, 2|A|]
    let searchStd = tf.fill([batch, dims], this.config.initialSearchStd) as tf.Tensor2D;
    if (!options.init) tf.dispose([start.mean, start.logStd]);
    const tiledStates = tf.tidy(() => tf.tile(tf.expandDims(states, 0), [P, 1, 1]).reshape([P * batch, obsSize]) as tf.Tensor2D);
    const trace: OptimizationStep[] = [];
    const asParams = (m: tf.Tensor2D): PolicyParams => {
      const [mean, logStd] = tf.split(m, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      return { mean, logStd };
    };
    for (let k = 0; k < iterations; k++) {
      const lambda = asParams(searchMean);
      trace.push({ lambda, terms: keepTerms(tf.tidy(() => objective.evaluate(states, lambda))) });
      const noise = tf.tensor3d(this.rng.fillNormal(new Float32Array(P * batch * dims)) as Float32Array, [P, batch, dims]);
      const next = tf.tidy(() => {
        const raw = tf.add(searchMean, tf.mul(searchStd, noise)) as tf.Tensor3D; // [P, batch, 2|A|]
        const [m, ls] = tf.split(raw, 2, 2);
        const candidates = tf.concat([m, tf.clipByValue(ls, LOG_STD_MIN, LOG_STD_MAX)], 2) as tf.Tensor3D;
        const flat = candidates.reshape([P * batch, dims]) as tf.Tensor2D;
        const j = objective.evaluate(tiledStates, asParams(flat)).j.reshape([P, batch]);
        // Elites: candidates scoring at least the E-th best per state (a mask, not a batched gather, which is
        // unreliable on the wasm backend). Ties can admit a few more than E.
        const { values } = tf.topk(tf.transpose(j), E); // [batch, E]
        const threshold = tf.slice(values, [0, E - 1], [-1, 1]).reshape([1, batch]);
        const mask = tf.expandDims(tf.cast(tf.greaterEqual(j, threshold), "float32"), 2); // [P, batch, 1]
        const count = tf.sum(mask, 0); // [batch, 1]
        const mean = tf.div(tf.sum(tf.mul(mask, candidates), 0), count);
        const variance = tf.div(tf.sum(tf.mul(mask, tf.square(tf.sub(candidates, mean))), 0), count);
        const fitStd = tf.maximum(tf.sqrt(variance), this.config.minSearchStd);
        return {
          mean: tf.add(searchMean, tf.mul(stepSize, tf.sub(mean, searchMean))) as tf.Tensor2D,
          std: tf.add(searchStd, tf.mul(stepSize, tf.sub(fitStd, searchStd))) as tf.Tensor2D,
        };
      });
      noise.dispose();
      searchStd.dispose();
      searchMean.dispose();
      searchMean = next.mean;
      searchStd = next.std;
    }
    const lambda = asParams(searchMean);
    const evaluateFinal = options.evaluateFinal !== false;
    trace.push({ lambda, terms: evaluateFinal ? keepTerms(tf.tidy(() => objective.evaluate(states, lambda))) : null });
    tf.dispose([searchMean, searchStd, tiledStates]);
    return keepOptimization({ lambda, trace, loss: null });
  }

  dispose(): void {}
}
