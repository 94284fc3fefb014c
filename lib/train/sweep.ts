/**
 * Training a grid of runs (tasks × optimizers × seeds) into one experiment folder, one run after another.
 * Finished runs with the same config are reused and unfinished ones resumed, so re-executing a notebook is
 * quick and an interrupted sweep continues where it stopped.
 */
import * as path from "node:path";
import { defaultRunsDir } from "../core/paths";
import type { ProgressListener } from "../core/progress";
import { activeScale, type Scale } from "../core/scale";
import type { Estimator } from "../analysis/estimator";
import { checkPresetName, DEFAULT_PRESET } from "../presets/presets";
import { buildTrainConfig, type AgentOverrides, type ScheduleOverrides } from "./config";
import { train, type TrainResult } from "./train";

export interface SweepSpec {
  /**
   * Experiment name: runs go to <runsDir>/<experiment>-<scale>/<env>_<optimizer>_seed<k>
   * (<experiment>-<scale>-<preset> for a preset other than the default).
   */
  experiment: string;
  envs: string[];
  optimizers: string[];
  seeds: number[];
  /** Defaults to the active scale (IAPO_SCALE). */
  scale?: Scale;
  /** The named preset every run starts from: "paper" (default) or "authors-code". */
  preset?: string;
  /** Steps per run, overriding the scale's preset: one number for every task, or one per task name. */
  totalSteps?: number | Record<string, number>;
  /** Iterations of the iterative optimizer (training and acting). */
  iterations?: number;
  /** Agent hyperparameters to override in every run. */
  agent?: AgentOverrides;
  /** Run-schedule settings to override in every run (e.g. snapshotEvery). */
  schedule?: ScheduleOverrides;
  /** Defaults to data/runs (or $IAPO_DATA_DIR/runs). */
  runsDir?: string;
}

export interface SweepOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Estimators every run analyses as it trains (reused runs: on their kept snapshots); see `TrainOptions`. */
  analyses?: readonly Estimator[];
  analyzeEvery?: number;
}

/** The experiment folder a sweep writes into. */
export function sweepDir(spec: SweepSpec): string {
  const preset = spec.preset === undefined || spec.preset === DEFAULT_PRESET ? "" : `-${checkPresetName(spec.preset)}`;
  return path.join(spec.runsDir ?? defaultRunsDir(), `${spec.experiment}-${spec.scale ?? activeScale()}${preset}`);
}

/** Trains every (env, optimizer, seed) of the spec; returns each run's result in that order. */
export async function trainSweep(spec: SweepSpec, options: SweepOptions = {}): Promise<TrainResult[]> {
  const scale = spec.scale ?? activeScale();
  const dir = sweepDir({ ...spec, scale });
  const results: TrainResult[] = [];
  for (const env of spec.envs) {
    for (const optimizer of spec.optimizers) {
      for (const seed of spec.seeds) {
        const totalSteps = typeof spec.totalSteps === "number" ? spec.totalSteps : spec.totalSteps?.[env];
        const config = buildTrainConfig({ env, optimizer, seed, scale, preset: spec.preset, totalSteps, iterations: spec.iterations, agent: spec.agent, schedule: spec.schedule });
        const runDir = path.join(dir, `${env}_${optimizer}_seed${seed}`);
        const { onProgress, signal, analyses, analyzeEvery } = options;
        results.push(await train(config, { runDir, ifExists: "reuse", onProgress, signal, analyses, analyzeEvery }));
        if (options.signal?.aborted) return results;
      }
    }
  }
  return results;
}
