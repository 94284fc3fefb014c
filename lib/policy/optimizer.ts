/**
 * One interface for every way of choosing λ for a batch of states: the amortized optimizers (direct, Eq. 9;
 * iterative, Eq. 10-11) and the non-amortized baselines (gradient ascent with Adam; CEM). The learner receives
 * an optimizer as a value and never asks which one it has.
 */
import { tf } from "../backend/tf";
import type { HeapLayer } from "../backend/heap-mlp";
import type { ParameterSet } from "../nn/parameters";
import type { InputNormalization } from "./input-normalization";
import { disposeTerms, type ObjectiveTerms, type PolicyObjective } from "./objective";
import type { LogStdBounds, PolicyParams } from "./params";

export const POLICY_OPTIMIZER_KINDS = ["direct", "iterative", "gradient", "cem"] as const;
/** direct: Eq. 9; iterative: Eq. 10-11; gradient: Adam ascent on λ; cem: cross-entropy method on λ. */
export type PolicyOptimizerKind = (typeof POLICY_OPTIMIZER_KINDS)[number];

export interface OptimizeOptions {
  /** Iterations to run; defaults to the optimizer's own (training or acting count for the iterative one). */
  iterations?: number;
  /** True inside a training step: picks the training iteration count and builds `loss`. */
  training?: boolean;
  /** Starting λ for the iterative ones (default: μ = 0 and the configured σ); not consumed. */
  init?: PolicyParams;
  /** Evaluate J at the final λ (default true); acting can skip it. */
  evaluateFinal?: boolean;
}

/** λ and J at one point of the optimization. trace[0] is the start for iterative optimizers. */
export interface OptimizationStep {
  lambda: PolicyParams;
  /** J at this λ (absent for the final step when `evaluateFinal` is false). */
  terms: ObjectiveTerms | null;
}

export interface PolicyOptimization {
  /** The final λ (the same tensors as the last trace entry's). */
  lambda: PolicyParams;
  trace: OptimizationStep[];
  /** Loss to minimise w.r.t. the optimizer's parameters φ (amortized optimizers, training only), else null. */
  loss: tf.Scalar | null;
}

/**
 * What a hand-written update (the native backend's fused SAC update, lib/agents/sac/fused/) needs to run an
 * amortized optimizer without tfjs: its network's layers, and how λ comes from the network's output.
 * - "direct" (Eq. 9): the output is (μ, raw log σ), log σ bounded by `logStdBounds`.
 * - "iterative" (Eq. 10-11): K steps from λ0 = (0, log initialStd); the input is (s, λ, ∇λ J), each normalised
 *   (the state only with `normalizeState`), the output (δ_μ, δ_log σ, gate logits), applied by the gated update,
 *   log σ bounded by `logStdBounds`.
 */
export type FusedPolicyForm =
  | { kind: "direct"; layers: HeapLayer[]; logStdBounds: LogStdBounds }
  | {
      kind: "iterative";
      layers: HeapLayer[];
      trainIterations: number;
      actIterations: number;
      initialStd: number;
      inputNormalization: InputNormalization;
      normalizeState: boolean;
      logStdBounds: LogStdBounds;
    };

export interface PolicyOptimizer {
  readonly kind: PolicyOptimizerKind;
  /** The trainable parameters φ (amortized optimizers), or null. */
  readonly params: ParameterSet | null;
  /** Maximises `objective` over λ for each state of `states` [batch, obs]. The caller disposes the result. */
  optimize(states: tf.Tensor2D, objective: PolicyObjective, options?: OptimizeOptions): PolicyOptimization;
  /** The form a hand-written update runs (amortized optimizers); absent where there is none (the baselines). */
  fusedForm?(): FusedPolicyForm;
  dispose(): void;
}

/** Frees every tensor of an optimization result (each once). */
export function disposeOptimization(r: PolicyOptimization): void {
  const seen = new Set<tf.Tensor>();
  const free = (t: tf.Tensor | undefined | null): void => {
    if (t && !seen.has(t)) {
      seen.add(t);
      t.dispose();
    }
  };
  for (const s of r.trace) {
    free(s.lambda.mean);
    free(s.lambda.logStd);
    if (s.terms) {
      free(s.terms.j);
      free(s.terms.q);
      free(s.terms.logProb);
    }
  }
  free(r.lambda.mean);
  free(r.lambda.logStd);
  free(r.loss);
}

/**
 * Marks every tensor of a result as kept, so it survives the tidy scope (or gradient tape) it was made in;
 * every optimizer returns its result through this, and the caller frees it with `disposeOptimization`.
 */
export function keepOptimization(r: PolicyOptimization): PolicyOptimization {
  for (const s of r.trace) {
    tf.keep(s.lambda.mean);
    tf.keep(s.lambda.logStd);
    if (s.terms) keepTerms(s.terms);
  }
  tf.keep(r.lambda.mean);
  tf.keep(r.lambda.logStd);
  if (r.loss) tf.keep(r.loss);
  return r;
}

/** Keeps a terms object alive beyond the current tidy scope. */
export function keepTerms(t: ObjectiveTerms): ObjectiveTerms {
  tf.keep(t.j);
  if (t.q) tf.keep(t.q);
  if (t.logProb) tf.keep(t.logProb);
  return t;
}

export { disposeTerms };

/** Mean over the batch of J per trace step, as plain numbers (one sync). */
export function traceMeans(r: PolicyOptimization): number[] {
  const js = r.trace.filter((s) => s.terms).map((s) => (s.terms as ObjectiveTerms).j);
  if (js.length === 0) return [];
  return Array.from(tf.tidy(() => tf.stack(js.map((j) => tf.mean(j)))).dataSync());
}
