/**
 * Training an amortized policy optimizer (direct or iterative) on a family of objectives, outside SAC: each step
 * draws a fresh batch (states and an objective) and takes one Adam step on the optimizer's own loss, −mean J at
 * its output(s) (for the iterative one, averaged over its iterations; Algorithm 2's policy step). This is how the
 * tutorial teaches an iterative optimizer the quadratic family, and it is the same loss SAC trains it with.
 */
import { tf } from "../backend/tf";
import { createAdam } from "../backend/adam";
import { ConfigError, NonFiniteError } from "../core/errors";
import type { Progress } from "../core/progress";
import type { Rng } from "../core/rng";
import type { PolicyObjective } from "./objective";
import { disposeOptimization, type PolicyOptimization, type PolicyOptimizer } from "./optimizer";

/** One training batch: states [batch, obs] and the objective to maximise for them (both disposed after the step). */
export interface ObjectiveBatch {
  states: tf.Tensor2D;
  objective: PolicyObjective & { dispose?(): void };
}

export interface FitOptions {
  /** Adam steps. */
  steps: number;
  learningRate?: number;
  /** Draws the batches. */
  rng: Rng;
  onProgress?: (p: Progress) => void;
}

/** The loss (−mean J over iterations) after each step, for a learning curve. */
export interface FitRow {
  [key: string]: number;
  step: number;
  loss: number;
}

/**
 * Trains `optimizer` in place for `steps` Adam steps on batches from `sample`; returns the loss of every step.
 * Yields to the event loop every few steps so a notebook's progress display updates.
 */
export async function fitAmortizedOptimizer(optimizer: PolicyOptimizer, sample: (rng: Rng) => ObjectiveBatch, options: FitOptions): Promise<FitRow[]> {
  const { steps, learningRate = 1e-3, rng, onProgress } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`fit: steps must be a positive integer, got ${steps}`);
  const params = optimizer.params;
  if (params === null) throw new ConfigError(`fit: the ${optimizer.kind} optimizer has no parameters to train`);
  const adam = createAdam({ learningRate });
  const rows: FitRow[] = [];
  const started = Date.now();
  try {
    for (let step = 1; step <= steps; step++) {
      const { states, objective } = sample(rng);
      let result: PolicyOptimization | null = null;
      const { value, grads } = tf.variableGrads(() => {
        result = optimizer.optimize(states, objective, { training: true });
        return result.loss as tf.Scalar;
      }, params.variables());
      adam.applyGradients(params.gradientMap(grads));
      const loss = value.dataSync()[0];
      tf.dispose([value, states, ...Object.values(grads)]);
      if (result) disposeOptimization(result);
      objective.dispose?.();
      if (!Number.isFinite(loss)) throw new NonFiniteError(`fit: the loss became ${loss} at step ${step}; lower the learning rate`);
      rows.push({ step, loss });
      if (step % 25 === 0 || step === steps) {
        const rate = step / Math.max(1e-3, (Date.now() - started) / 1000);
        onProgress?.({ label: `fitting the ${optimizer.kind} optimizer`, done: step, total: steps, rate, etaSeconds: (steps - step) / rate, figures: { loss } });
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    adam.dispose();
  }
  return rows;
}
