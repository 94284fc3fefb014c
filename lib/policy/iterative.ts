/**
 * Iterative amortization (Eq. 10-11, Algorithm 2): λ ← f_φ(s, λ, ∇λ J), repeated, with the gated ("highway") update
 *   λ ← ω ⊙ λ + (1 − ω) ⊙ δ,   ω = sigmoid(·) ∈ [0, 1],                                               (Eq. 11)
 * where δ and ω are the network's two outputs per parameter (μ and log σ).
 * - Inputs are each normalised per example (A.4; the state optionally fed raw, as the authors' code does) and
 *   detached: no second-order back-propagation and no back-propagation across iterations (each iteration is
 *   trained greedily).
 * - The output layer starts at zero: δ = 0 and ω = 0.5 at initialisation (under either NetworkInit).
 * - Start λ0: μ = 0, σ = 1 (paper A.4) or σ = 0.5 (the authors' code).
 * - Training loss: the mean over iterations k = 1..K of −mean_s J(s, λ_k).
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import type { NetworkInit } from "../nn/init";
import type { MlpBody, MlpConfig } from "../nn/mlp";
import { MlpModel } from "../nn/mlp-model";
import { POLICY_NETWORK } from "../nn/architectures";
import { stopGradient } from "../nn/stop-gradient";
import { normalizeInput, normalizedSize, type InputNormalization } from "./input-normalization";
import type { ObjectiveTerms, PolicyObjective } from "./objective";
import { keepOptimization, keepTerms, type FusedPolicyForm, type OptimizationStep, type OptimizeOptions, type PolicyOptimization, type PolicyOptimizer } from "./optimizer";
import { boundLogStd, checkLogStdBounds, initialPolicyParams, type LogStdBounds, type PolicyParams } from "./params";

export interface IterativeOptimizerConfig {
  /** Optimizer network body (Table 2: the same 2 x 256 ReLU as the direct policy). */
  network: MlpBody;
  /** Iterations per training update (paper: 5). */
  trainIterations: number;
  /** Iterations when acting in the environment (paper: 5). */
  actIterations: number;
  /** σ of the starting λ0 (μ = 0): 1 in the paper (A.4), 0.5 in the authors' code. */
  initialStd: number;
  /**
   * Per-input normalisation: "layer" (paper) or "layer+scale" (default: keeps each input's mean and scale; pure
   * layer norm loses the gradient's size and is all zeros for 1-D actions; see input-normalization.ts).
   */
  inputNormalization: InputNormalization;
  /** Normalise the state input too (the paper, A.4: every input; default true); false feeds it raw (the authors' code). */
  normalizeState?: boolean;
  /** How the gated log σ is bounded (default "hard-clip"; "soft-clamp": the authors' code). */
  logStdBounds?: LogStdBounds;
  /** How the hidden layers start (default "fan-in-uniform"; "xavier": the authors' code). The output layer starts at zero either way. */
  init?: NetworkInit;
}

type IterativeOptions = Required<Pick<IterativeOptimizerConfig, "normalizeState" | "logStdBounds" | "init">>;
const OPTION_DEFAULTS: IterativeOptions = { normalizeState: true, logStdBounds: "hard-clip", init: "fan-in-uniform" };

export const DEFAULT_ITERATIVE_CONFIG: IterativeOptimizerConfig = {
  network: POLICY_NETWORK,
  trainIterations: 5,
  actIterations: 5,
  initialStd: 1,
  inputNormalization: "layer+scale",
  ...OPTION_DEFAULTS,
};

/** The optional settings of an iterative config with their defaults filled in. */
function resolved(config: IterativeOptimizerConfig): IterativeOptions {
  const d = OPTION_DEFAULTS;
  return { normalizeState: config.normalizeState ?? d.normalizeState, logStdBounds: config.logStdBounds ?? d.logStdBounds, init: config.init ?? d.init };
}

/**
 * The iterative network's MLP config, after checking the optimizer's own settings: inputs are the state
 * (normalised, or raw with normalizeState false), and the normalised λ and ∇λ J; outputs δ and the gates ω for
 * μ and log σ, starting at zero (δ = 0, ω = 0.5).
 */
function iterativeNetwork(config: IterativeOptimizerConfig, observationSize: number, actionSize: number): MlpConfig {
  for (const k of ["trainIterations", "actIterations"] as const) {
    if (!Number.isInteger(config[k]) || config[k] < 1) throw new ConfigError(`iterative.${k} must be an integer >= 1, got ${config[k]}`);
  }
  if (!(config.initialStd > 0)) throw new ConfigError(`iterative.initialStd must be > 0, got ${config.initialStd}`);
  const { normalizeState, logStdBounds, init } = resolved(config);
  if (typeof normalizeState !== "boolean") throw new ConfigError(`iterative.normalizeState must be a boolean, got ${JSON.stringify(normalizeState)}`);
  checkLogStdBounds(logStdBounds, "iterative.logStdBounds");
  const norm = config.inputNormalization;
  const inputSize = (normalizeState ? normalizedSize(observationSize, norm) : observationSize) + 4 * normalizedSize(actionSize, norm);
  return { ...config.network, inputSize, outputSize: 4 * actionSize, outputInit: "zeros", init };
}

/** Eq. 11 on one parameter tensor: ω ⊙ λ + (1 − ω) ⊙ δ (as tf ops; the home is gatedUpdateValue in maths.ts). */
export function gatedUpdate<T extends tf.Tensor>(previous: T, update: T, gate: T): T {
  return tf.tidy(() => tf.add(tf.mul(gate, previous), tf.mul(tf.sub(1, gate), update)) as T);
}

export class IterativeAmortizedOptimizer extends MlpModel implements PolicyOptimizer {
  readonly kind = "iterative" as const;

  constructor(
    readonly config: IterativeOptimizerConfig,
    readonly observationSize: number,
    readonly actionSize: number,
    rng: Rng,
  ) {
    super(iterativeNetwork(config, observationSize, actionSize), rng);
  }

  /**
   * One application of f_φ: the next λ from detached copies of the state, λ and ∇λ J (Eq. 10-11).
   * @param grad ∇λ J at `lambda` (per state).
   */
  step(states: tf.Tensor2D, lambda: PolicyParams, grad: PolicyParams): PolicyParams {
    return tf.tidy(() => {
      const norm = this.config.inputNormalization;
      const { normalizeState, logStdBounds } = resolved(this.config);
      const mean = stopGradient(lambda.mean);
      const logStd = stopGradient(lambda.logStd);
      const parts = [mean, logStd, stopGradient(grad.mean), stopGradient(grad.logStd)].map((x) => normalizeInput(x, norm));
      const out = this.mlp.apply(tf.concat([normalizeState ? normalizeInput(states, norm) : states, ...parts], 1));
      const [deltaMean, deltaLogStd, gateMeanLogit, gateLogStdLogit] = tf.split(out, 4, 1) as tf.Tensor2D[];
      return {
        mean: gatedUpdate(mean, deltaMean, tf.sigmoid(gateMeanLogit)),
        logStd: boundLogStd(gatedUpdate(logStd, deltaLogStd, tf.sigmoid(gateLogStdLogit)), logStdBounds),
      };
    });
  }

  optimize(states: tf.Tensor2D, objective: PolicyObjective, options: OptimizeOptions = {}): PolicyOptimization {
    const iterations = options.iterations ?? (options.training ? this.config.trainIterations : this.config.actIterations);
    if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`iterations must be an integer >= 1, got ${iterations}`);
    const batch = states.shape[0];
    let lambda: PolicyParams = options.init
      ? { mean: options.init.mean.clone(), logStd: options.init.logStd.clone() }
      : initialPolicyParams(batch, this.actionSize, this.config.initialStd);
    const trace: OptimizationStep[] = [];
    for (let k = 0; k < iterations; k++) {
      const { terms, grad } = objectiveAndGradient(states, objective, lambda);
      trace.push({ lambda, terms });
      lambda = this.step(states, lambda, grad);
      grad.mean.dispose();
      grad.logStd.dispose();
    }
    const evaluateFinal = options.training || options.evaluateFinal !== false;
    trace.push({ lambda, terms: evaluateFinal ? keepTerms(tf.tidy(() => objective.evaluate(states, lambda))) : null });
    const loss = options.training
      ? tf.tidy(() => tf.neg(tf.mean(tf.stack(trace.slice(1).map((s) => tf.mean((s.terms as ObjectiveTerms).j))))) as tf.Scalar)
      : null;
    return keepOptimization({ lambda, trace, loss });
  }

  fusedForm(): FusedPolicyForm {
    const { trainIterations, actIterations, initialStd, inputNormalization } = this.config;
    const { normalizeState, logStdBounds } = resolved(this.config);
    return { kind: "iterative", layers: this.heapLayers(), trainIterations, actIterations, initialStd, inputNormalization, normalizeState, logStdBounds };
  }
}

/**
 * J(s, λ) and ∇λ Σ_s J(s, λ) (= the per-state gradient, since J(s, ·) depends only on λ(s)) from one evaluation.
 * The returned J stays connected to whatever λ was computed from, so it also serves as the training loss term.
 */
export function objectiveAndGradient(states: tf.Tensor2D, objective: PolicyObjective, lambda: PolicyParams): { terms: ObjectiveTerms; grad: PolicyParams } {
  let terms: ObjectiveTerms | null = null;
  const f = (mean: tf.Tensor, logStd: tf.Tensor): tf.Scalar => {
    terms = keepTerms(objective.evaluate(states, { mean: mean as tf.Tensor2D, logStd: logStd as tf.Tensor2D }));
    return tf.sum(terms.j);
  };
  const { value, grads } = tf.valueAndGrads(f)([lambda.mean, lambda.logStd]);
  value.dispose();
  return { terms: terms as unknown as ObjectiveTerms, grad: { mean: grads[0] as tf.Tensor2D, logStd: grads[1] as tf.Tensor2D } };
}
