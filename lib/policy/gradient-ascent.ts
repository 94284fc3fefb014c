/**
 * Non-amortized baseline: gradient ascent on λ per state with Adam (Kingma & Ba, 2014). Used for the
 * amortization gap (A.3: lr 5e-3, 100 steps) and the optimizer comparison (B.2: lr 1e-2).
 */
import { tf } from "../backend/tf";
import { createAdam } from "../backend/adam";
import { ConfigError } from "../core/errors";
import type { PolicyObjective } from "./objective";
import { keepOptimization, keepTerms, type OptimizationStep, type OptimizeOptions, type PolicyOptimization, type PolicyOptimizer } from "./optimizer";
import { clipLogStd, initialPolicyParams, type PolicyParams } from "./params";

export interface GradientAscentConfig {
  /** Adam step size (A.3: 5e-3 for the amortization gap; B.2: 1e-2 for the comparison). */
  learningRate: number;
  /** Steps when `iterations` is not given (A.3: 100). */
  iterations: number;
  /** σ of λ0 when no `init` is given (μ = 0). */
  initialStd: number;
}

export const DEFAULT_GRADIENT_ASCENT_CONFIG: GradientAscentConfig = { learningRate: 1e-2, iterations: 100, initialStd: 1 };

export class GradientAscentOptimizer implements PolicyOptimizer {
  readonly kind = "gradient" as const;
  readonly params = null;

  constructor(readonly config: GradientAscentConfig, readonly actionSize: number) {
    if (!(config.learningRate > 0)) throw new ConfigError(`gradient.learningRate must be > 0, got ${config.learningRate}`);
  }

  optimize(states: tf.Tensor2D, objective: PolicyObjective, options: OptimizeOptions = {}): PolicyOptimization {
    const iterations = options.iterations ?? this.config.iterations;
    if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`iterations must be an integer >= 1, got ${iterations}`);
    const start = options.init ?? initialPolicyParams(states.shape[0], this.actionSize, this.config.initialStd);
    const mean = tf.variable(start.mean, true); // tf.variable copies its initial value
    const logStd = tf.variable(start.logStd, true);
    if (!options.init) {
      start.mean.dispose();
      start.logStd.dispose();
    }
    const adam = createAdam({ learningRate: this.config.learningRate });
    const trace: OptimizationStep[] = [];
    const snapshot = (): PolicyParams => ({ mean: mean.clone() as tf.Tensor2D, logStd: logStd.clone() as tf.Tensor2D });
    for (let k = 0; k < iterations; k++) {
      const lambda = snapshot();
      let terms = null as ReturnType<PolicyObjective["evaluate"]> | null;
      const { value, grads } = tf.variableGrads(() => {
        terms = keepTerms(objective.evaluate(states, { mean: mean as tf.Tensor as tf.Tensor2D, logStd: logStd as tf.Tensor as tf.Tensor2D }));
        return tf.neg(tf.sum(terms.j)) as tf.Scalar;
      }, [mean, logStd]);
      adam.applyGradients({ [mean.name]: grads[mean.name], [logStd.name]: grads[logStd.name] });
      tf.tidy(() => logStd.assign(clipLogStd(logStd as tf.Tensor as tf.Tensor2D)));
      tf.dispose([value, grads[mean.name], grads[logStd.name]]);
      trace.push({ lambda, terms });
    }
    const lambda = snapshot();
    const evaluateFinal = options.evaluateFinal !== false;
    trace.push({ lambda, terms: evaluateFinal ? keepTerms(tf.tidy(() => objective.evaluate(states, lambda))) : null });
    adam.dispose();
    mean.dispose();
    logStd.dispose();
    return keepOptimization({ lambda, trace, loss: null });
  }

  dispose(): void {}
}
