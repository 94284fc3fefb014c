/**
 * Named presets: every setting of a run (the agent's `SacConfig` and the run's `RunSchedule`) resolved from a
 * preset, a task, an optimizer, a scale and optionally a run length. Networks, agents and the training loop
 * receive these values; nothing below this folder knows a task's name.
 *
 * - `paper` (the default): the paper's text (Appendix A.4, Tables 2-6), and the authors' code where the text is
 *   silent (initialisation, the bounds on log σ, the temperature's loss).
 * - `authors-code`: what the authors' code (github.com/joelouismarino/variational_rl) ran where it departs from
 *   the text: its unbiased std in Eq. 12, the target Q-networks in the policy objective and when acting, raw
 *   states into the iterative optimizer, σ = 0.5 at the start, hard target copies, an evaluation episode every
 *   1 000 steps.
 * docs/algorithms.md has the table of every point where the two differ.
 */
import { ConfigError } from "../core/errors";
import { activeScale, type Scale } from "../core/scale";
import type { SacConfig } from "../agents/sac/config";
import type { ModelBasedConfig } from "../agents/model-based/config";
import type { PolicyOptimizerKind } from "../policy/optimizer";
import { defaultInputNormalization, PAPER_ITERATIONS, paperBetaTrain, qArchitectureFor, TABLE6, TABLE7_8 } from "./paper-tables";
import { fitSchedule, SCHEDULE_PRESETS, type RunSchedule } from "./schedule";

export const PRESET_NAMES = ["paper", "authors-code"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
export const DEFAULT_PRESET: PresetName = "paper";

/** One line per preset, for help texts. */
export const PRESET_DESCRIPTIONS: Readonly<Record<PresetName, string>> = {
  paper: "the paper's text (A.4, Tables 2-6), the authors' code where the text is silent (default)",
  "authors-code": "what the authors' code ran where it departs from the text (docs/algorithms.md)",
};

/** The SacConfig fields where the paper's text and the authors' code differ, or where the text is silent. */
export type FidelityField =
  | "pessimismStd" | "networkInit" | "logStdBounds" | "temperatureLoss" | "useTargetQForPolicy" | "useTargetQForActing"
  | "normalizeStateInput" | "initialStd" | "targetUpdate";

/**
 * Each preset's value of every fidelity field. β keeps A.4's numbers in both: the authors ran them with their
 * code's unbiased std (config/mujoco_config.py: pessimism 1; lib/value_estimators/direct_q.py: q_values.var(),
 * unbiased), which under the population std are β·√2 (1 → 1.41, 1.5 → 2.12, 2.5 → 3.54).
 */
export const PRESET_OPTIONS: Readonly<Record<PresetName, Readonly<Pick<SacConfig, FidelityField>>>> = {
  paper: {
    // Eq. 12 with β = 1 "is" min(Q1, Q2) (Fujimoto et al., 2018) only under the population std
    pessimismStd: "population",
    // the text is silent on initialisation and on how log σ is bounded: the code's choices (lib/layers/layer.py)
    networkInit: "xavier",
    logStdBounds: "soft-clamp",
    // A.4 follows Haarnoja et al. (2018c), whose J(α) = E[−α log π − α H̄] is also the code's (misc/collector.py)
    temperatureLoss: "alpha",
    // SAC (Haarnoja et al., 2018b), which A.4 follows: the online Q-networks in the policy objective and when acting
    useTargetQForPolicy: false,
    useTargetQForActing: false,
    // A.4: "layer normalization individually to each of the inputs", the state included
    normalizeStateInput: true,
    // A.4: "we initialize iterative amortization with μ = 0 and σ = 1"
    initialStd: 1,
    // Table 6: update rate τ = 5e-3
    targetUpdate: "polyak",
  },
  "authors-code": {
    pessimismStd: "unbiased",
    networkInit: "xavier",
    logStdBounds: "soft-clamp",
    temperatureLoss: "alpha",
    // config/mujoco_config.py: optimize_targets = True; lib/agent.py's estimate_objective uses it whenever it runs,
    // in training and when acting
    useTargetQForPolicy: true,
    useTargetQForActing: true,
    // lib/distributions/distribution.py (params_and_grads) standardises λ and ∇λJ per example; the state goes
    // into the network as it is (lib/models/model.py)
    normalizeStateInput: false,
    initialStd: 0.5,
    // main.py: --value_update hard; misc/optimizer.py copies every int(1/τ) = 200 updates and Polyak-averages at τ
    // on the updates in between
    targetUpdate: "polyak+hard",
  },
};

/** Network and batch sizes per scale: smoke (seconds, tests), quick (minutes), paper (Table 2 and Table 6). */
export const SAC_SCALE_PRESETS: Readonly<Record<Scale, Readonly<Pick<SacConfig, "batchSize" | "policyHiddenSizes">>>> = {
  smoke: { batchSize: 64, policyHiddenSizes: [64, 64] },
  quick: { batchSize: TABLE6.batchSize, policyHiddenSizes: [256, 256] },
  paper: { batchSize: TABLE6.batchSize, policyHiddenSizes: [256, 256] },
};

/**
 * The model-based estimate's settings per scale (read when valueEstimate is "model-based"): Tables 7-8 at quick
 * and paper scale; at smoke scale smaller networks and 100 pre-training updates, so tests take seconds.
 */
export function presetModelBased(scale: Scale): ModelBasedConfig {
  const smoke = scale === "smoke";
  return {
    horizon: TABLE7_8.horizon,
    retraceLambda: TABLE7_8.retraceLambda,
    pretrainUpdates: smoke ? 100 : TABLE7_8.pretrainUpdates,
    hiddenSizes: smoke ? [64, 64] : TABLE7_8.hiddenSizes.slice(),
    valueTargets: TABLE7_8.valueTargets,
  };
}

/**
 * N, action samples per state in each estimate of J (Eq. 7). The authors' code uses 10 for every optimizer
 * (config/mujoco_config.py: n_action_samples), and so do both presets at paper scale. Smoke and quick runs use 1,
 * a cheaper setting than the paper's, so they stay seconds and minutes long (an iterative update with 10 samples
 * costs about 5x one with 1: `npm run bench`).
 */
export const SAMPLES_FOR_J: Readonly<Record<Scale, number>> = { smoke: 1, quick: 1, paper: 10 };

/** Each preset's changes to the scale's schedule: the authors' main.py evaluates one episode every 1 000 steps. */
const PRESET_SCHEDULE_CHANGES: Readonly<Record<PresetName, Partial<Record<Scale, Partial<RunSchedule>>>>> = {
  paper: {},
  "authors-code": { paper: { evalEvery: 1_000, evalEpisodes: 1 } },
};

export function isPresetName(name: unknown): name is PresetName {
  return typeof name === "string" && (PRESET_NAMES as readonly string[]).includes(name);
}

/** `name` as a preset name, or a ConfigError naming the known ones. */
export function checkPresetName(name: unknown, where = "preset"): PresetName {
  if (!isPresetName(name)) throw new ConfigError(`unknown ${where} ${JSON.stringify(name)}; known: ${PRESET_NAMES.join(", ")}`);
  return name;
}

/** The agent a preset gives for a task and optimizer at a scale. */
export function presetSacConfig(preset: PresetName, envName: string, optimizer: PolicyOptimizerKind, scale: Scale): SacConfig {
  checkPresetName(preset);
  const sizes = SAC_SCALE_PRESETS[scale];
  return {
    gamma: TABLE6.gamma,
    tau: TABLE6.tau,
    learningRate: TABLE6.learningRate,
    batchSize: sizes.batchSize,
    policyHiddenSizes: sizes.policyHiddenSizes.slice(),
    optimizer,
    iterations: { train: PAPER_ITERATIONS, act: PAPER_ITERATIONS, eval: PAPER_ITERATIONS },
    samples: SAMPLES_FOR_J[scale],
    betaTrain: paperBetaTrain(envName, optimizer),
    // A.4: "while collecting data in the environment, we use β = 1"
    betaCollect: 1,
    qArchitecture: qArchitectureFor(envName, optimizer === "iterative" ? "iterative" : "direct"),
    policyActivation: "relu",
    inputNormalization: defaultInputNormalization(envName),
    // A.4: the target entropy is −|A|; log α starts at 0 (α = 1) in the code
    targetEntropy: null,
    initialLogAlpha: 0,
    autoTemperature: true,
    ...PRESET_OPTIONS[preset],
    // analysis-only optimizers: Adam at 1e-2 and CEM with 100 samples, top 10 (App. B.2)
    gradientLearningRate: 1e-2,
    cem: { population: 100, elites: 10 },
    // model-free values (Eq. 12) in every preset; "model-based" (Sec. 4.2.5) is chosen per run, as an override
    valueEstimate: "model-free",
    modelBased: presetModelBased(scale),
  };
}

/** The `paper` preset's agent for a task and optimizer (default scale: IAPO_SCALE). */
export function defaultSacConfig(envName: string, optimizer: PolicyOptimizerKind, scale: Scale = activeScale()): SacConfig {
  return presetSacConfig(DEFAULT_PRESET, envName, optimizer, scale);
}

/** The schedule a preset gives at a scale, for a run of `totalSteps` (default: the scale's length). */
export function presetSchedule(preset: PresetName, scale: Scale, totalSteps?: number): RunSchedule {
  return fitSchedule({ ...SCHEDULE_PRESETS[scale], ...PRESET_SCHEDULE_CHANGES[checkPresetName(preset)][scale] }, totalSteps);
}

export interface PresetRequest {
  preset: PresetName;
  env: string;
  optimizer: PolicyOptimizerKind;
  scale: Scale;
  /** The run's length (default: the scale's); the schedule's other periods shrink to fit. */
  totalSteps?: number;
}

/** What a preset resolves to: every setting of a run besides its task, optimizer and seed. */
export interface PresetConfig {
  agent: SacConfig;
  schedule: RunSchedule;
}

/** Every setting a preset gives for a task, optimizer, scale and run length. */
export function resolvePreset(r: PresetRequest): PresetConfig {
  return { agent: presetSacConfig(r.preset, r.env, r.optimizer, r.scale), schedule: presetSchedule(r.preset, r.scale, r.totalSteps) };
}
