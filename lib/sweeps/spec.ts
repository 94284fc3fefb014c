/**
 * The sweep file (JSON or YAML): a grid of training runs and how to schedule them. Everything in it is checked
 * against this schema — known fields only, bounded values — both when a user plans or submits a sweep and when a
 * worker receives a run from a queue, since anyone who can write to the queue can hand workers jobs.
 *
 *   name: reproduce-quick            # runs go to <runs root>/<name>/<run id>/
 *   scale: quick                     # smoke | quick | paper: the presets every run starts from
 *   tasks: [Hopper-v2, Walker2d-v2]
 *   optimizers: [direct, iterative]
 *   seeds: [0, 1]
 *   settings: { preset: paper, totalSteps: 100000, agent: { betaTrain: 1 } }   # the same in every run (optional)
 *   grid: { iterations: [2, 5], agent: { samples: [1, 10] } }  # more axes, every combination (optional)
 *                                    # (preset: paper | authors-code, fixed in settings or an axis of grid)
 *   analyses: [amortization-gap]     # estimators run on the live agent at each kept snapshot
 *   slurm: { cpusPerTask: 2, mem: 4G, time: "04:00:00", partition: cpu }
 */
import { ConfigError } from "../core/errors";
import { isScale, SCALES, type Scale } from "../core/scale";
import { estimatorNames, isEstimatorName } from "../analysis/registry";
import { isPresetName, PRESET_NAMES, type PresetName } from "../presets/presets";

type NumericSetting = "totalSteps" | "iterations" | "evalEvery" | "evalEpisodes";

/** A run's settings besides task, optimizer and seed: the optional fields of TrainConfigRequest. */
export interface RunSettings {
  totalSteps?: number;
  iterations?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  /** The named preset the run's settings start from (default "paper"). */
  preset?: PresetName;
  agent?: Record<string, AgentValue>;
}

/** An agent setting's value: numbers, short words, flags, and small lists or records of those (hidden sizes, CEM). */
export type AgentValue = number | string | boolean | null | AgentValue[] | { [k: string]: AgentValue };

export interface SlurmResources {
  cpusPerTask?: number;
  /** Memory per task as sbatch takes it: "4G", "4000M". */
  mem?: string;
  /** Time limit per task: "MM", "HH:MM:SS" or "D-HH:MM:SS". */
  time?: string;
  partition?: string;
  /**
   * Seconds before the time limit at which Slurm signals a task (SIGUSR2) to checkpoint and requeue itself, so a
   * run longer than the limit trains on in the next allocation. Needs `time`; at least 60 s must be left to train,
   * since Slurm may send the signal up to a minute early.
   */
  requeueBefore?: number;
  /** At most this many of a submission's tasks run at once (`--array=0-K%N`), e.g. to leave a shared cluster room. */
  maxRunning?: number;
}

/** Seconds of a Slurm time limit: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS". */
export function slurmTimeSeconds(time: string): number {
  const dash = time.indexOf("-");
  if (dash >= 0) {
    const [hours = 0, minutes = 0, seconds = 0] = time.slice(dash + 1).split(":").map(Number);
    return Number(time.slice(0, dash)) * 86400 + hours * 3600 + minutes * 60 + seconds;
  }
  const parts = time.split(":").map(Number);
  return parts.length === 3 ? parts[0] * 3600 + parts[1] * 60 + parts[2] : parts[0] * 60 + (parts[1] ?? 0);
}

export interface SweepFile {
  name: string;
  scale: Scale;
  tasks: string[];
  optimizers: string[];
  seeds: number[];
  settings: RunSettings;
  /** Each field a list of values; the runs are every combination. */
  grid: { [K in NumericSetting]?: number[] } & { preset?: PresetName[]; agent?: Record<string, AgentValue[]> };
  analyses: string[];
  slurm: SlurmResources;
}

/** Names that become folder names, queue job ids and Slurm job names: no separators, no shell characters. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_LIST = 1000;
export const MAX_RUNS = 10_000;
export const MAX_SEED = 2 ** 31 - 1;
const NUMERIC_SETTINGS: Record<NumericSetting, { min: number; max: number }> = {
  totalSteps: { min: 1, max: 100_000_000 },
  iterations: { min: 1, max: 1000 },
  evalEvery: { min: 1, max: 100_000_000 },
  evalEpisodes: { min: 0, max: 1000 },
};
const TOP_FIELDS = ["name", "scale", "tasks", "optimizers", "seeds", "settings", "grid", "analyses", "slurm"] as const;

function fail(where: string, message: string): never {
  throw new ConfigError(`${where}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function knownFields(where: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(v)) fail(where, `must be a mapping, got ${JSON.stringify(v)}`);
  for (const k of Object.keys(v)) if (!known.includes(k)) fail(`${where}.${k}`, `unknown field; known: ${known.join(", ")}`);
  return v;
}

function list(where: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(where, `must be a list, got ${JSON.stringify(v)}`);
  if (v.length === 0) fail(where, "is empty: the grid would have no runs");
  if (v.length > MAX_LIST) fail(where, `has ${v.length} entries; at most ${MAX_LIST}`);
  return v;
}

/** A plain name (folder, job id, Slurm word): letters, digits, ".", "_", "-"; a ConfigError naming `where` otherwise. */
export function checkName(where: string, v: unknown): string {
  if (typeof v !== "string" || !NAME.test(v)) fail(where, `must be 1-64 letters, digits, ".", "_" or "-" (not starting with "." or "-"), got ${JSON.stringify(v)}`);
  return v;
}

/** An estimator's name as the analysis registry knows it (`iapo analyze --estimator` takes the same names). */
export function checkEstimator(field: string, value: unknown): string {
  const name = checkName(field, value);
  if (!isEstimatorName(name)) fail(field, `unknown estimator "${name}"; known: ${estimatorNames().join(", ")}`);
  return name;
}

export function checkInteger(where: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(where, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

/** Checks an agent setting's value shape; whether the field exists and the value fits is buildTrainConfig's job. */
function agentValue(where: string, v: unknown, depth = 0): AgentValue {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v) || Math.abs(v) > 1e12) fail(where, `must be a finite number of magnitude <= 1e12, got ${v}`);
    return v;
  }
  if (typeof v === "string") {
    if (!/^[A-Za-z0-9._+-]{0,64}$/.test(v)) fail(where, `must be a short word (letters, digits, "._+-"), got ${JSON.stringify(v)}`);
    return v;
  }
  if (depth >= 2) fail(where, "is nested too deeply");
  if (Array.isArray(v)) {
    if (v.length > 64) fail(where, `has ${v.length} entries; at most 64`);
    return v.map((x, i) => agentValue(`${where}[${i}]`, x, depth + 1));
  }
  if (isRecord(v)) {
    if (Object.keys(v).length > 16) fail(where, "has more than 16 fields");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [checkName(`${where} key`, k), agentValue(`${where}.${k}`, x, depth + 1)]));
  }
  return fail(where, `has an unsupported value ${JSON.stringify(v)}`);
}

function agentFields(where: string, v: unknown): Record<string, unknown> {
  if (!isRecord(v)) fail(where, `must be a mapping of agent settings, got ${JSON.stringify(v)}`);
  if (Object.keys(v).length > 64) fail(where, "has more than 64 settings");
  for (const k of Object.keys(v)) checkName(`${where} key`, k);
  return v;
}

function checkPreset(where: string, v: unknown): PresetName {
  if (!isPresetName(v)) fail(where, `unknown preset ${JSON.stringify(v)}; known: ${PRESET_NAMES.join(", ")}`);
  return v;
}

/** The fixed settings of a run, checked; also what a queued job's settings must pass. */
export function parseRunSettings(where: string, v: unknown): RunSettings {
  const raw = knownFields(where, v, [...Object.keys(NUMERIC_SETTINGS), "preset", "agent"]);
  const out: RunSettings = {};
  for (const [field, b] of Object.entries(NUMERIC_SETTINGS)) {
    if (raw[field] !== undefined) out[field as keyof typeof NUMERIC_SETTINGS] = checkInteger(`${where}.${field}`, raw[field], b.min, b.max);
  }
  if (raw.preset !== undefined) out.preset = checkPreset(`${where}.preset`, raw.preset);
  if (raw.agent !== undefined) {
    out.agent = Object.fromEntries(Object.entries(agentFields(`${where}.agent`, raw.agent)).map(([k, x]) => [k, agentValue(`${where}.agent.${k}`, x)]));
  }
  return out;
}

function parseGrid(where: string, v: unknown): SweepFile["grid"] {
  const raw = knownFields(where, v, [...Object.keys(NUMERIC_SETTINGS), "preset", "agent"]);
  const out: SweepFile["grid"] = {};
  for (const [field, b] of Object.entries(NUMERIC_SETTINGS)) {
    if (raw[field] !== undefined) {
      out[field as keyof typeof NUMERIC_SETTINGS] = list(`${where}.${field}`, raw[field]).map((x, i) => checkInteger(`${where}.${field}[${i}]`, x, b.min, b.max));
    }
  }
  if (raw.preset !== undefined) out.preset = list(`${where}.preset`, raw.preset).map((x, i) => checkPreset(`${where}.preset[${i}]`, x));
  if (raw.agent !== undefined) {
    out.agent = Object.fromEntries(
      Object.entries(agentFields(`${where}.agent`, raw.agent)).map(([k, xs]) => [k, list(`${where}.agent.${k}`, xs).map((x, i) => agentValue(`${where}.agent.${k}[${i}]`, x))]),
    );
  }
  return out;
}

function parseSlurm(where: string, v: unknown): SlurmResources {
  const raw = knownFields(where, v, ["cpusPerTask", "mem", "time", "partition", "requeueBefore", "maxRunning"]);
  const out: SlurmResources = {};
  if (raw.cpusPerTask !== undefined) out.cpusPerTask = checkInteger(`${where}.cpusPerTask`, raw.cpusPerTask, 1, 1024);
  if (raw.mem !== undefined) {
    if (typeof raw.mem !== "string" || !/^[1-9][0-9]{0,6}[KMGT]?$/.test(raw.mem)) fail(`${where}.mem`, `must look like "4G" or "4000M", got ${JSON.stringify(raw.mem)}`);
    out.mem = raw.mem;
  }
  if (raw.time !== undefined) {
    if (typeof raw.time !== "string" || !/^([0-9]{1,3}-)?[0-9]{1,4}(:[0-5][0-9]){0,2}$/.test(raw.time)) fail(`${where}.time`, `must look like "90", "04:00:00" or "2-00:00:00", got ${JSON.stringify(raw.time)}`);
    out.time = raw.time;
  }
  if (raw.partition !== undefined) out.partition = checkName(`${where}.partition`, raw.partition);
  if (raw.maxRunning !== undefined) out.maxRunning = checkInteger(`${where}.maxRunning`, raw.maxRunning, 1, MAX_RUNS);
  if (raw.requeueBefore !== undefined) {
    out.requeueBefore = checkInteger(`${where}.requeueBefore`, raw.requeueBefore, 10, 86_400);
    if (out.time === undefined) fail(`${where}.requeueBefore`, "needs a time limit (time) to count back from");
    const limit = slurmTimeSeconds(out.time);
    if (out.requeueBefore + 60 >= limit) fail(`${where}.requeueBefore`, `${out.requeueBefore} s before a time limit of ${out.time} leaves under a minute to train (Slurm may signal up to 60 s early)`);
  }
  return out;
}

/** Checks a parsed sweep document; `where` names the file in every error. */
export function validateSweep(doc: unknown, where = "sweep"): SweepFile {
  const raw = knownFields(where, doc, TOP_FIELDS);
  for (const required of ["name", "scale", "tasks", "optimizers", "seeds"]) {
    if (raw[required] === undefined) fail(`${where}.${required}`, "is required");
  }
  if (typeof raw.scale !== "string" || !isScale(raw.scale)) fail(`${where}.scale`, `must be one of ${SCALES.join(", ")}, got ${JSON.stringify(raw.scale)}`);
  const spec: SweepFile = {
    name: checkName(`${where}.name`, raw.name),
    scale: raw.scale,
    tasks: list(`${where}.tasks`, raw.tasks).map((x, i) => checkName(`${where}.tasks[${i}]`, x)),
    optimizers: list(`${where}.optimizers`, raw.optimizers).map((x, i) => checkName(`${where}.optimizers[${i}]`, x)),
    seeds: list(`${where}.seeds`, raw.seeds).map((x, i) => checkInteger(`${where}.seeds[${i}]`, x, 0, MAX_SEED)),
    settings: raw.settings === undefined ? {} : parseRunSettings(`${where}.settings`, raw.settings),
    grid: raw.grid === undefined ? {} : parseGrid(`${where}.grid`, raw.grid),
    analyses: raw.analyses === undefined ? [] : (() => {
      if (!Array.isArray(raw.analyses) || raw.analyses.length > 100) fail(`${where}.analyses`, "must be a list of at most 100 analysis names");
      return raw.analyses.map((x, i) => checkEstimator(`${where}.analyses[${i}]`, x));
    })(),
    slurm: raw.slurm === undefined ? {} : parseSlurm(`${where}.slurm`, raw.slurm),
  };
  for (const field of Object.keys(spec.grid) as (keyof SweepFile["grid"])[]) {
    if (field !== "agent" && spec.settings[field] !== undefined) fail(`${where}.grid.${field}`, `is also fixed in settings.${field}; keep one`);
  }
  for (const field of Object.keys(spec.grid.agent ?? {})) {
    if (spec.settings.agent?.[field] !== undefined) fail(`${where}.grid.agent.${field}`, `is also fixed in settings.agent.${field}; keep one`);
  }
  return spec;
}
