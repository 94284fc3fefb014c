/**
 * A training run's full configuration: task, optimizer, seed, the preset its settings come from and the settings
 * that differ from it, the run schedule (`RunSchedule`: length, warm-up, replay, evaluation, logging, checkpoints,
 * snapshots) and the agent's hyperparameters (`SacConfig`: what one update computes and how the agent acts).
 * Written first into every run folder, so a run can always be reproduced from its run.json; run.json files of
 * earlier shapes (before the schedule had its own record, before presets) are migrated on read.
 */
import { ConfigError } from "../core/errors";
import type { Scale } from "../core/scale";
import { FIDELITY_OPTIONS_BEFORE_PRESETS, validateSacConfig, type SacConfig } from "../agents/sac/config";
import { flattenConfig } from "../analysis/aggregate";
import type { ModelBasedConfig } from "../agents/model-based/config";
import { checkPresetName, DEFAULT_PRESET, presetModelBased, resolvePreset, type PresetConfig, type PresetName } from "../presets/presets";
import { defaultSchedule, SCHEDULE_FIELDS, type RunSchedule } from "../presets/schedule";
import { applyScheduleChanges, isScheduleField, validateSchedule } from "./schedule";

export type AmortizedOptimizerKind = "direct" | "iterative";
export const AMORTIZED_OPTIMIZERS: readonly AmortizedOptimizerKind[] = ["direct", "iterative"];

export interface TrainConfig {
  /** Registered environment name, e.g. "Hopper-v2" or "Pendulum-v1". */
  env: string;
  /** The policy optimizer trained inside SAC (also `agent.optimizer`). */
  optimizer: AmortizedOptimizerKind;
  /** Seeds everything: network init, the env, action noise, replay sampling, evaluation episodes. */
  seed: number;
  /** The scale the config came from (network and batch sizes, run length and periods). */
  scale: Scale;
  /** The named preset the settings come from ("paper", "authors-code"); null for runs written before presets. */
  preset: PresetName | null;
  /**
   * Dotted names of every setting that differs from what the preset resolves to for this task, optimizer, scale
   * and run length (e.g. "agent.betaTrain", "schedule.evalEvery"); buildTrainConfig fills it in.
   */
  overrides: string[];
  /** What the loop does when: run length, warm-up, updates per step, replay capacity, eval, logs, checkpoints. */
  schedule: RunSchedule;
  /** SAC and policy-optimizer hyperparameters (Tables 2-6, A.4). */
  agent: SacConfig;
}

/** Agent fields to change from the paper's defaults, e.g. { betaTrain: 2.5, qArchitecture: "B" }. */
export type AgentOverrides = Record<string, unknown>;
/** Schedule fields to change from the scale's defaults, e.g. { snapshotEvery: 5000, bufferSize: 100000 }. */
export type ScheduleOverrides = Record<string, unknown>;

export interface TrainConfigRequest {
  env: string;
  optimizer: string;
  seed?: number;
  scale: Scale;
  /** The named preset to start from (default "paper"). */
  preset?: string;
  /** Overrides the scale's run length (the other periods shrink to fit; see `defaultSchedule`). */
  totalSteps?: number;
  /** Iterations of the iterative optimizer, for training, acting and evaluation alike. */
  iterations?: number;
  /** Then evaluation's alone (test-time iterations; collected data and updates stay the same). */
  evalIterations?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  schedule?: ScheduleOverrides;
  agent?: AgentOverrides;
  /** Changes to the model-based estimate's settings (e.g. { horizon: 3 }), merged into the agent's. */
  modelBased?: Partial<ModelBasedConfig>;
}

/**
 * The full config for a run: the preset's agent and schedule for (env, optimizer, scale, run length), then the
 * request's changes, each named in `overrides`. Unknown fields and bad values fail with a ConfigError naming them.
 */
export function buildTrainConfig(req: TrainConfigRequest): TrainConfig {
  const optimizer = checkOptimizer(req.optimizer);
  const preset = checkPresetName(req.preset ?? DEFAULT_PRESET);
  // the run's length is what the preset resolves for, never an override
  const totalSteps = (req.schedule?.totalSteps as number | undefined) ?? req.totalSteps;
  const base = resolvePreset({ preset, env: req.env, optimizer, scale: req.scale, totalSteps });
  const agent: SacConfig = structuredClone(base.agent);
  const known = Object.keys(agent);
  for (const [field, value] of Object.entries(req.agent ?? {})) {
    if (isScheduleField(field)) throw new ConfigError(`"${field}" is a run schedule setting, not an agent setting: set schedule.${field}`);
    if (!known.includes(field)) throw new ConfigError(`unknown agent setting "${field}"; known: ${known.join(", ")}`);
    if (field === "optimizer") throw new ConfigError(`set the optimizer with the top-level "optimizer", not as an agent setting`);
    (agent as unknown as Record<string, unknown>)[field] = value;
  }
  if (req.iterations !== undefined) agent.iterations = { train: req.iterations, act: req.iterations, eval: req.iterations };
  if (req.evalIterations !== undefined) agent.iterations = { ...agent.iterations, eval: req.evalIterations };
  if (req.modelBased !== undefined) agent.modelBased = { ...agent.modelBased, ...req.modelBased };
  const schedule = { ...base.schedule };
  if (req.evalEvery !== undefined) schedule.evalEvery = req.evalEvery;
  if (req.evalEpisodes !== undefined) schedule.evalEpisodes = req.evalEpisodes;
  applyScheduleChanges(schedule, req.schedule ?? {});
  const overrides = settingsDifferingFrom(base, { agent, schedule });
  const config: TrainConfig = { env: req.env, optimizer, seed: req.seed ?? 0, scale: req.scale, preset, overrides, schedule, agent };
  return validateTrainConfig(config);
}

function checkOptimizer(optimizer: unknown): AmortizedOptimizerKind {
  if (!(AMORTIZED_OPTIMIZERS as readonly unknown[]).includes(optimizer)) {
    throw new ConfigError(`optimizer must be one of ${AMORTIZED_OPTIMIZERS.join(", ")}, got ${JSON.stringify(optimizer)}`);
  }
  return optimizer as AmortizedOptimizerKind;
}

/** Each setting of `config` (dotted name) whose value differs from `base`'s, with both values as flat cells. */
function differences(base: PresetConfig, config: PresetConfig): { field: string; base: unknown; config: unknown }[] {
  const a = flattenConfig({ agent: base.agent, schedule: base.schedule });
  const b = flattenConfig({ agent: config.agent, schedule: config.schedule });
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return fields.filter((f) => a[f] !== b[f]).map((field) => ({ field, base: a[field], config: b[field] }));
}

/** Dotted names of the settings (e.g. "agent.betaTrain", "agent.iterations.eval") where `config` differs from `base`. */
export function settingsDifferingFrom(base: PresetConfig, config: PresetConfig): string[] {
  return differences(base, config).map((d) => d.field);
}

/**
 * Checks every field (the schedule's and the agent's with their own validators), and that every setting that
 * differs from the named preset is declared in `overrides`; throws ConfigError naming the bad one.
 */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  if (typeof c.env !== "string" || c.env === "") throw new ConfigError(`env must be a task name, got ${JSON.stringify(c.env)}`);
  checkOptimizer(c.optimizer);
  if (c.agent.optimizer !== c.optimizer) throw new ConfigError(`agent.optimizer (${c.agent.optimizer}) differs from optimizer (${c.optimizer})`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new ConfigError(`seed must be a non-negative integer, got ${JSON.stringify(c.seed)}`);
  validateSchedule(c.schedule);
  validateSacConfig(c.agent);
  if (!Array.isArray(c.overrides) || c.overrides.some((o) => typeof o !== "string")) {
    throw new ConfigError(`overrides must be a list of setting names (e.g. ["agent.betaTrain"]), got ${JSON.stringify(c.overrides)}`);
  }
  if (c.preset === null) return c; // written before presets: no claim to check
  const preset = checkPresetName(c.preset);
  const base = resolvePreset({ preset, env: c.env, optimizer: c.optimizer, scale: c.scale, totalSteps: c.schedule.totalSteps });
  for (const d of differences(base, c)) {
    if (!c.overrides.includes(d.field)) {
      throw new ConfigError(
        `${d.field} is ${JSON.stringify(d.config)} but preset "${preset}" sets ${JSON.stringify(d.base)} (${c.env}, ${c.optimizer}, ${c.scale} scale); ` +
        `declare "${d.field}" in overrides (buildTrainConfig does) or use the preset's value`,
      );
    }
  }
  return c;
}

/**
 * A config as read from a run.json, in today's shape. Runs written before the schedule had its own record kept
 * `logEvery`/`checkpointEvery` at the top and the other schedule fields inside `agent`; those move to
 * `schedule`, and `snapshotEvery` (which such runs did not have) gets the scale's default for the run's length.
 * Runs written before presets claim none (`preset: null`, no overrides).
 */
export function migrateTrainConfig(raw: unknown, source = "run.json"): TrainConfig {
  if (typeof raw !== "object" || raw === null || typeof (raw as { agent?: unknown }).agent !== "object") {
    throw new ConfigError(`${source}: not a training config (no "agent" record)`);
  }
  const old = raw as Record<string, unknown> & { agent: Record<string, unknown>; scale: Scale };
  const withOptions = { preset: null, overrides: [], ...old, agent: withAgentOptionsOfTheTime(old.agent, old.scale) };
  if (old.schedule !== undefined) return withOptions as unknown as TrainConfig;
  return migrateSchedule(withOptions, source);
}

/**
 * Agent settings that became options later, filled in with what runs computed before: the fidelity options'
 * earlier behaviour, an evaluation iteration count equal to the acting one, and model-free values.
 */
function withAgentOptionsOfTheTime(agent: Record<string, unknown>, scale: Scale): Record<string, unknown> {
  const filled: Record<string, unknown> = { ...FIDELITY_OPTIONS_BEFORE_PRESETS, valueEstimate: "model-free", modelBased: presetModelBased(scale), ...agent };
  const iterations = agent.iterations as { train?: unknown; act?: unknown; eval?: unknown } | undefined;
  if (iterations && typeof iterations === "object" && iterations.eval === undefined) filled.iterations = { ...iterations, eval: iterations.act };
  return filled;
}

function migrateSchedule(old: Record<string, unknown> & { agent: Record<string, unknown>; scale: Scale }, source: string): TrainConfig {
  const agent: Record<string, unknown> = { ...old.agent };
  const top: Record<string, unknown> = { ...old };
  const moved: Partial<Record<keyof RunSchedule, unknown>> = {};
  for (const field of SCHEDULE_FIELDS) {
    for (const from of [agent, top]) {
      if (field in from) {
        moved[field] = from[field];
        delete from[field];
      }
    }
  }
  if (typeof moved.totalSteps !== "number") throw new ConfigError(`${source}: a config of the earlier shape without agent.totalSteps`);
  const schedule = { ...defaultSchedule(old.scale, moved.totalSteps), ...moved } as RunSchedule;
  const { env, optimizer, seed, scale, preset, overrides } = top as unknown as TrainConfig;
  return { env, optimizer, seed, scale, preset, overrides, schedule, agent: agent as unknown as SacConfig };
}
