/**
 * Every hyperparameter of SAC with a policy optimizer (Haarnoja et al., 2018b;c; paper Sec. 4.1, A.4, Tables 2-6),
 * in one typed record, and its checks. The values per task, optimizer and scale are the presets' (lib/presets/).
 * The run around the agent (length, random warm-up, updates per step, replay capacity, evaluation, logging) is
 * the training run's schedule, not part of this record.
 */
import { ConfigError } from "../../core/errors";
import type { QArchitecture } from "../../nn/architectures";
import type { Activation } from "../../backend/ops";
import { INPUT_NORMALIZATIONS, type InputNormalization } from "../../policy/input-normalization";
import { POLICY_OPTIMIZER_KINDS, type PolicyOptimizerKind } from "../../policy/optimizer";
import { validateValueEstimate, type ModelBasedConfig, type ValueEstimate } from "../model-based/config";
import { NETWORK_INITS, type NetworkInit } from "../../nn/init";
import { PESSIMISM_STDS, type PessimismStd } from "../../policy/maths";
import { LOG_STD_BOUNDS, type LogStdBounds } from "../../policy/params";

// The policy-side options' values live with the maths they choose (nn/init.ts, policy/maths.ts, policy/params.ts).
export { NETWORK_INITS, PESSIMISM_STDS, LOG_STD_BOUNDS, type NetworkInit, type PessimismStd, type LogStdBounds };
export const TEMPERATURE_LOSSES = ["log-alpha", "alpha"] as const;
export type TemperatureLoss = (typeof TEMPERATURE_LOSSES)[number];
export const TARGET_UPDATES = ["polyak", "hard", "polyak+hard"] as const;
export type TargetUpdate = (typeof TARGET_UPDATES)[number];

/**
 * The values of the options above that every run had before they were options; a run.json without them is read
 * with these (migrateTrainConfig), so older runs load and resume computing what they computed.
 */
export const FIDELITY_OPTIONS_BEFORE_PRESETS = {
  pessimismStd: "population",
  networkInit: "fan-in-uniform",
  logStdBounds: "hard-clip",
  normalizeStateInput: true,
  temperatureLoss: "log-alpha",
  useTargetQForActing: false,
  targetUpdate: "polyak",
} as const satisfies Partial<SacConfig>;

export interface SacConfig {
  /** Discount factor γ (Table 6: 0.99). */
  gamma: number;
  /** Polyak rate τ of the target Q-networks (Table 6: 5e-3). */
  tau: number;
  /** Adam learning rate of the Q-networks, the policy optimizer and the temperature (Table 6: 3e-4). */
  learningRate: number;
  /** Minibatch size: transitions averaged in each estimate of the losses (Table 6: 256). */
  batchSize: number;
  /** How λ is chosen: "direct" (Eq. 9) or "iterative" (Eq. 10-11); "gradient"/"cem" only for analysis. */
  optimizer: PolicyOptimizerKind;
  /**
   * Iterations of the iterative optimizer: per training update, when acting (collecting data) and when evaluating
   * (paper: 5, 5, 5). `eval` is test-time optimisation (Sec. 4.2.3): more iterations at evaluation change neither
   * what the agent collects nor its targets.
   */
  iterations: { train: number; act: number; eval: number };
  /** N, reparameterised action samples per state for each estimate of J (Eq. 7). */
  samples: number;
  /**
   * The std of {Q1, Q2} in Eq. 12: "population" (|Q1 − Q2|/2, so β = 1 is min(Q1, Q2): the paper) or "unbiased"
   * (|Q1 − Q2|/√2: the authors' code, a penalty √2 larger at the same β; β_unbiased = β_population/√2).
   */
  pessimismStd: PessimismStd;
  /** Pessimism β of Eq. 12 in training (targets and policy objective): direct 1; iterative 1.5 Hopper, 2.5 others. */
  betaTrain: number;
  /** β when acting in the environment (A.4: 1, "to not overly penalize exploration"). */
  betaCollect: number;
  /** Q-network architecture (Table 5 per environment and optimizer). */
  qArchitecture: QArchitecture;
  /** Hidden units of the policy / optimizer network (Table 2: [256, 256]). */
  policyHiddenSizes: number[];
  /** Non-linearity of the policy / optimizer network (Table 2: ReLU). */
  policyActivation: Activation;
  /**
   * How networks start: "fan-in-uniform" (weights and biases U(±1/√fanIn)) or "xavier" (the authors' code:
   * Xavier-normal hidden layers with ReLU gain √2 and bias 0.1, policy output heads at zero, Q outputs U(±3e-3)).
   */
  networkInit: NetworkInit;
  /** Bounds on log σ: "hard-clip" to [−20, 2] (no gradient outside) or "soft-clamp" to (−10, 0.5) by softplus (the code). */
  logStdBounds: LogStdBounds;
  /** σ of the iterative optimizer's starting λ (μ = 0): paper 1, authors' code 0.5. */
  initialStd: number;
  /** Normalisation of the iterative optimizer's inputs: "layer" (the paper's, default on its tasks) or "layer+scale". */
  inputNormalization: InputNormalization;
  /** Normalise the state input of the iterative optimizer as well (the paper: every input); false feeds it raw (the code). */
  normalizeStateInput: boolean;
  /** Target entropy of the temperature tuning; null means −|A| (A.4). */
  targetEntropy: number | null;
  /** log α at the start (0: α = 1). */
  initialLogAlpha: number;
  /** Learn α to meet the target entropy (Haarnoja et al., 2018c); false keeps α fixed. */
  autoTemperature: boolean;
  /**
   * The temperature's loss: "log-alpha", −log α·(log π + H̄) (common SAC code), or "alpha", −α·(log π + H̄)
   * (Haarnoja et al. 2018c's form and the authors' code; its gradient is the first's times α). Neither clamps
   * log α: the code's `torch.clamp(log_alpha, min=-15.)` assigns to a loop variable and leaves the parameter as is.
   */
  temperatureLoss: TemperatureLoss;
  /** Use the target Q-networks in the policy objective (the authors' code) instead of the online ones (SAC). */
  useTargetQForPolicy: boolean;
  /**
   * Use the target Q-networks in J when acting (the iterative optimizer's objective while collecting data and in
   * evaluation episodes) instead of the online ones: the authors' code's estimate_objective uses the targets in
   * every mode when optimize_targets is set, as its MuJoCo config does.
   */
  useTargetQForActing: boolean;
  /**
   * How target Q-networks follow the online ones (target-update.ts): "polyak" (rate τ every update, Table 6),
   * "hard" (a copy every ⌊1/τ⌋ updates, frozen in between) or "polyak+hard" (the authors' code's "hard": a copy
   * every ⌊1/τ⌋ updates and Polyak at rate τ on the others).
   */
  targetUpdate: TargetUpdate;
  /** Adam step size when optimizer = "gradient". */
  gradientLearningRate: number;
  /** CEM population and elites when optimizer = "cem" (B.2: 100, 10). */
  cem: { population: number; elites: number };
  /** The value the policy optimizes and the Q-networks' targets use: "model-free" (Q_ψ, Eq. 12) or "model-based" (Eq. 13, A.5). */
  valueEstimate: ValueEstimate;
  /** Settings of the model-based estimate (Tables 7-8), read when valueEstimate is "model-based". */
  modelBased: ModelBasedConfig;
}

/** Checks every field; throws ConfigError naming the first bad one. Returns the config unchanged. */
export function validateSacConfig(c: SacConfig): SacConfig {
  const fail = (field: string, want: string, got: unknown): never => {
    throw new ConfigError(`SacConfig.${field} must be ${want}, got ${JSON.stringify(got)}`);
  };
  const inRange = (field: keyof SacConfig, lo: number, hi: number, loOpen = false): void => {
    const v = c[field] as unknown;
    if (typeof v !== "number" || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) fail(field, `a number in ${loOpen ? "(" : "["}${lo}, ${hi}]`, v);
  };
  const posInt = (field: string, v: unknown, min = 1): void => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) fail(field, `an integer >= ${min}`, v);
  };
  inRange("gamma", 0, 1);
  inRange("tau", 0, 1, true);
  inRange("learningRate", 0, 1, true);
  posInt("batchSize", c.batchSize);
  if (!(POLICY_OPTIMIZER_KINDS as readonly string[]).includes(c.optimizer)) fail("optimizer", `one of ${POLICY_OPTIMIZER_KINDS.join(", ")}`, c.optimizer);
  if (typeof c.iterations !== "object" || c.iterations === null) fail("iterations", "{ train, act }", c.iterations);
  posInt("iterations.train", c.iterations.train);
  posInt("iterations.act", c.iterations.act);
  posInt("iterations.eval", c.iterations.eval);
  const oneOf = <T extends string>(field: keyof SacConfig, allowed: readonly T[]): void => {
    if (!(allowed as readonly unknown[]).includes(c[field])) fail(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, c[field]);
  };
  oneOf("pessimismStd", PESSIMISM_STDS);
  oneOf("networkInit", NETWORK_INITS);
  oneOf("logStdBounds", LOG_STD_BOUNDS);
  oneOf("temperatureLoss", TEMPERATURE_LOSSES);
  oneOf("targetUpdate", TARGET_UPDATES);
  for (const flag of ["normalizeStateInput", "useTargetQForActing"] as const) {
    if (typeof c[flag] !== "boolean") fail(flag, "a boolean", c[flag]);
  }
  posInt("samples", c.samples);
  inRange("betaTrain", 0, 100);
  inRange("betaCollect", 0, 100);
  if (c.qArchitecture !== "A" && c.qArchitecture !== "B") fail("qArchitecture", '"A" or "B"', c.qArchitecture);
  if (!Array.isArray(c.policyHiddenSizes) || c.policyHiddenSizes.length === 0) fail("policyHiddenSizes", "a non-empty list of positive integers", c.policyHiddenSizes);
  c.policyHiddenSizes.forEach((h, i) => posInt(`policyHiddenSizes[${i}]`, h));
  if (!["linear", "relu", "elu", "leakyrelu", "sigmoid", "tanh"].includes(c.policyActivation)) fail("policyActivation", "an activation name", c.policyActivation);
  inRange("initialStd", 0, 10, true);
  if (!(INPUT_NORMALIZATIONS as readonly string[]).includes(c.inputNormalization)) fail("inputNormalization", INPUT_NORMALIZATIONS.join(" or "), c.inputNormalization);
  if (c.targetEntropy !== null && !Number.isFinite(c.targetEntropy)) fail("targetEntropy", "a finite number or null (−|A|)", c.targetEntropy);
  if (!Number.isFinite(c.initialLogAlpha)) fail("initialLogAlpha", "a finite number", c.initialLogAlpha);
  if (typeof c.autoTemperature !== "boolean") fail("autoTemperature", "a boolean", c.autoTemperature);
  if (typeof c.useTargetQForPolicy !== "boolean") fail("useTargetQForPolicy", "a boolean", c.useTargetQForPolicy);
  inRange("gradientLearningRate", 0, 10, true);
  posInt("cem.population", c.cem?.population, 2);
  posInt("cem.elites", c.cem?.elites);
  if (c.cem.elites > c.cem.population) fail("cem.elites", `at most cem.population (${c.cem.population})`, c.cem.elites);
  validateValueEstimate(c.valueEstimate, c.modelBased);
  return c;
}
