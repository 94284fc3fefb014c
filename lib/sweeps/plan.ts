/**
 * From a sweep to its runs: every combination of the grid, each with its resolved training config and a stable id
 * (task, optimizer, seed, and a hash of the resolved config), so the same sweep file always names the same run
 * folders, whichever machine or executor expands it. A run is also what executors hand to workers (`SweepJob`);
 * workers check it again here before training anything.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../runs/analysis-log";
import { ConfigError } from "../core/errors";
import { isScale, SCALES } from "../core/scale";
import { buildTrainConfig, type TrainConfig, type TrainConfigRequest } from "../train/config";
import { checkEstimator, checkInteger, checkName, MAX_RUNS, MAX_SEED, parseRunSettings, type AgentValue, type RunSettings, type SweepFile } from "./spec";

/** What one run asks for: the input of buildTrainConfig. */
export type RunRequest = TrainConfigRequest & RunSettings & { seed: number };

export interface PlannedRun {
  /** `<task>_<optimizer>_seed<k>-<10 hex of the resolved config's hash>`. */
  id: string;
  /** The run folder relative to the runs root: `<sweep name>/<id>`. */
  folder: string;
  request: RunRequest;
  config: TrainConfig;
}

/** A run as handed to a worker through a queue or a child process's arguments. */
export interface SweepJob {
  sweep: string;
  runId: string;
  request: RunRequest;
  /** Estimators to run on the live agent as it trains (the sweep file's `analyses`), by registered name. */
  analyses?: string[];
}

/** The run's id: readable from the request, unique by the hash of the config it resolves to. */
export function runId(request: RunRequest, config: TrainConfig): string {
  const hash = createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 10);
  return `${request.env}_${request.optimizer}_seed${request.seed}-${hash}`;
}

/**
 * The two figures of a resolved config that sweeps read (the rest only travels to train()): the run's length and
 * how often it checkpoints, which bounds the steps redone after a lost worker.
 */
export function runLength(config: TrainConfig): { totalSteps: number; checkpointEvery: number } {
  return { totalSteps: config.schedule.totalSteps, checkpointEvery: config.schedule.checkpointEvery };
}

/** The request's config, with a ConfigError that says which run it was. */
function resolve(request: RunRequest, where: string): TrainConfig {
  try {
    return buildTrainConfig(request);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
}

/** Every combination of the given axes, the first axis varying slowest. */
function product<T>(axes: [string, T[]][]): Record<string, T>[] {
  let rows: Record<string, T>[] = [{}];
  for (const [key, values] of axes) rows = rows.flatMap((r) => values.map((v) => ({ ...r, [key]: v })));
  return rows;
}

/** The sweep's runs in a fixed order (task, optimizer, seed, then the grid's axes); duplicates are refused. */
export function planSweep(spec: SweepFile): PlannedRun[] {
  const axes: [string, AgentValue[]][] = Object.entries(spec.grid).flatMap(([field, values]) =>
    field === "agent" ? Object.entries(values as Record<string, AgentValue[]>).map(([k, xs]): [string, AgentValue[]] => [`agent.${k}`, xs]) : [[field, values as AgentValue[]]],
  );
  const count = spec.tasks.length * spec.optimizers.length * spec.seeds.length * axes.reduce((n, [, xs]) => n * xs.length, 1);
  if (count > MAX_RUNS) throw new ConfigError(`${spec.name}: the grid has ${count} runs; at most ${MAX_RUNS}`);
  const runs: PlannedRun[] = [];
  const seen = new Map<string, string>();
  for (const env of spec.tasks) {
    for (const optimizer of spec.optimizers) {
      for (const seed of spec.seeds) {
        for (const point of product(axes)) {
          const request: RunRequest = { env, optimizer, seed, scale: spec.scale, ...spec.settings, agent: { ...spec.settings.agent } };
          for (const [key, value] of Object.entries(point)) {
            if (key.startsWith("agent.")) request.agent![key.slice(6)] = value;
            else (request as unknown as Record<string, unknown>)[key] = value;
          }
          if (Object.keys(request.agent!).length === 0) delete request.agent;
          const label = `${spec.name}: run ${env} ${optimizer} seed ${seed}${axes.length ? " " + JSON.stringify(point) : ""}`;
          const config = resolve(request, label);
          const id = runId(request, config);
          if (seen.has(id)) throw new ConfigError(`${label} resolves to the same config as ${seen.get(id)}; remove the duplicate`);
          seen.set(id, label);
          runs.push({ id, folder: `${spec.name}/${id}`, request, config });
        }
      }
    }
  }
  return runs;
}

export function jobFor(spec: SweepFile, run: PlannedRun): SweepJob {
  return { sweep: spec.name, runId: run.id, request: run.request, analyses: spec.analyses.slice() };
}

/**
 * Checks a job from outside (a queue, a command line) against the sweep schema and returns its run. Refuses
 * unknown fields, out-of-range values, names that are not plain words, and an id that does not match the config
 * the request resolves to (a job cannot choose its own folder).
 */
export function validateJob(data: unknown): PlannedRun & { sweep: string; analyses: string[] } {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ConfigError(`job: must be an object, got ${JSON.stringify(data)}`);
  const job = data as Record<string, unknown>;
  for (const k of Object.keys(job)) if (!["sweep", "runId", "request", "analyses"].includes(k)) throw new ConfigError(`job.${k}: unknown field; known: sweep, runId, request, analyses`);
  if (job.analyses !== undefined && (!Array.isArray(job.analyses) || job.analyses.length > 100)) throw new ConfigError("job.analyses: must be a list of at most 100 estimator names");
  const analyses = ((job.analyses ?? []) as unknown[]).map((x, i) => checkEstimator(`job.analyses[${i}]`, x));
  if (typeof job.request !== "object" || job.request === null || Array.isArray(job.request)) throw new ConfigError("job.request: must be an object");
  const { env, optimizer, seed, scale, ...settings } = job.request as Record<string, unknown>;
  if (typeof scale !== "string" || !isScale(scale)) throw new ConfigError(`job.request.scale: must be one of ${SCALES.join(", ")}, got ${JSON.stringify(scale)}`);
  // the sweep schema's checks, as for a sweep file
  const sweep = checkName("job.sweep", job.sweep);
  const request: RunRequest = {
    env: checkName("job.request.env", env),
    optimizer: checkName("job.request.optimizer", optimizer),
    seed: checkInteger("job.request.seed", seed, 0, MAX_SEED),
    scale,
    ...parseRunSettings("job.request", settings),
  };
  const config = resolve(request, "job.request");
  const id = runId(request, config);
  if (job.runId !== id) throw new ConfigError(`job.runId: ${JSON.stringify(job.runId)} does not match its config (expected "${id}")`);
  return { sweep, id, folder: `${sweep}/${id}`, request, config, analyses };
}
