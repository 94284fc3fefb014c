/**
 * What a sweep will cost on this machine, before it starts: each distinct (task, agent settings) is timed once
 * with a short run of the real training loop (train/speed.ts) and the figures kept in a cache file beside the
 * runs, keyed by the machine and the settings, so a second plan costs nothing to make; each run's time follows
 * from its schedule (random phase, learning steps, evaluations) and the steps it has already done.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { canonicalJson } from "../runs/analysis-log";
import { writeFileAtomic } from "../runs/atomic";
import type { TrainConfig } from "../train/config";
import { measureTrainingSpeed, type SpeedProbeOptions, type TrainingSpeed } from "../train/speed";

/** A measured speed and what it was measured for. */
export interface SpeedRecord {
  machine: string;
  /** ISO time of the measurement. */
  measuredAt: string;
  env: string;
  optimizer: string;
  qArchitecture: string;
  samples: number;
  speed: Omit<TrainingSpeed, "threads">;
}

interface SpeedCacheFile {
  version: 1;
  records: Record<string, SpeedRecord>;
}

/** This machine, as far as speed goes: host name, core count and CPU model. */
export function machineId(): string {
  const cpus = os.cpus();
  return `${os.hostname()} (${cpus.length} x ${cpus[0]?.model.trim() ?? "unknown CPU"})`;
}

/** What a config's speed depends on: the machine, the task, the agent's settings and the updates per step. */
export function speedKey(config: TrainConfig, machine = machineId()): string {
  const what = { machine, env: config.env, agent: config.agent, updatesPerStep: config.schedule.updatesPerStep };
  return createHash("sha256").update(canonicalJson(what)).digest("hex").slice(0, 16);
}

/** The cache's records; an unreadable or foreign file is reported through `warn` and treated as empty. */
function readCache(file: string, warn: (line: string) => void): Record<string, SpeedRecord> {
  if (!fs.existsSync(file)) return {};
  try {
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as SpeedCacheFile;
    if (doc?.version !== 1 || typeof doc.records !== "object" || doc.records === null) throw new Error("not a speed cache (version 1)");
    return doc.records;
  } catch (err) {
    warn(`ignoring the speed cache ${file} (${(err as Error).message}); measuring again`);
    return {};
  }
}

export interface MeasureOptions {
  probe?: SpeedProbeOptions;
  /** Measure again even where the cache has a figure. */
  remeasure?: boolean;
  /** Called before each probe (`index` of `count` still to measure). */
  onProbe?: (config: TrainConfig, index: number, count: number) => void;
  warn?: (line: string) => void;
}

/**
 * The speed of every distinct setting among `configs`, by `speedKey`: from `cacheFile` where measured on this
 * machine before, measured now (and added to the file) otherwise.
 */
export async function measuredSpeeds(configs: readonly TrainConfig[], cacheFile: string, options: MeasureOptions = {}): Promise<Map<string, SpeedRecord>> {
  const machine = machineId();
  const records = readCache(cacheFile, options.warn ?? (() => undefined));
  const missing = new Map<string, TrainConfig>();
  const out = new Map<string, SpeedRecord>();
  for (const config of configs) {
    const key = speedKey(config, machine);
    if (!options.remeasure && records[key]) out.set(key, records[key]);
    else if (!out.has(key)) missing.set(key, config);
  }
  let index = 0;
  for (const [key, config] of missing) {
    options.onProbe?.(config, index++, missing.size);
    const { threads: _threads, ...speed } = await measureTrainingSpeed(config, options.probe);
    const record: SpeedRecord = {
      machine, measuredAt: new Date().toISOString(), env: config.env, optimizer: config.optimizer, qArchitecture: config.agent.qArchitecture, samples: config.agent.samples, speed,
    };
    records[key] = record;
    out.set(key, record);
    writeFileAtomic(cacheFile, JSON.stringify({ version: 1, records } satisfies SpeedCacheFile, null, 2) + "\n");
  }
  return out;
}

/** A run's remaining cost in seconds, by part. */
export interface RunCost {
  /** Environment steps still to do. */
  stepsLeft: number;
  randomSeconds: number;
  learningSeconds: number;
  /** Evaluations still due, each `evalEpisodes` episodes of at most the task's episode limit. */
  evalSecondsAtMost: number;
  /** The three together. */
  seconds: number;
}

/** Evaluations a run does in steps (from, to]: at every multiple of evalEvery and at the end. */
function evaluationsBetween(from: number, to: number, evalEvery: number): number {
  const multiples = Math.floor(to / evalEvery) - Math.floor(from / evalEvery);
  return multiples + (to % evalEvery !== 0 && from < to ? 1 : 0);
}

/** What the rest of a run costs at `speed`, from `fromStep` (0 for a run not started) to its end. */
export function estimateRunCost(config: TrainConfig, speed: Omit<TrainingSpeed, "threads">, fromStep = 0): RunCost {
  const s = config.schedule;
  const from = Math.min(Math.max(0, fromStep), s.totalSteps);
  const randomSteps = Math.max(0, Math.min(s.initialRandomSteps, s.totalSteps) - from);
  const learningSteps = s.totalSteps - from - randomSteps;
  const evalSteps = s.evalEpisodes * speed.episodeLimit * evaluationsBetween(from, s.totalSteps, s.evalEvery);
  const randomSeconds = randomSteps / speed.randomStepsPerSecond;
  const learningSeconds = learningSteps / speed.learningStepsPerSecond;
  const evalSecondsAtMost = evalSteps / speed.evalStepsPerSecond;
  return { stepsLeft: s.totalSteps - from, randomSeconds, learningSeconds, evalSecondsAtMost, seconds: randomSeconds + learningSeconds + evalSecondsAtMost };
}
