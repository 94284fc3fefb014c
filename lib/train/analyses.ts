/**
 * Running the paper's estimators on a run: live, as a hook of the training loop (`train(config, { analyses })`),
 * or afterwards on the snapshots the run kept (`analyzeRun`, `iapo analyze`). Both hand each estimator an agent
 * rebuilt from the same agent-only snapshot and append its rows through one `AnalysisLog`, so the rows are
 * identical either way, and (estimator, settings, step) already in analysis.jsonl are skipped: an interrupted
 * analysis resumes where it stopped.
 */
import type { AnalysisContext, AnalysisRow, Estimator } from "../analysis/estimator";
import { makeEstimator } from "../analysis/registry";
import { ConfigError, IapoError } from "../core/errors";
import type { ProgressListener } from "../core/progress";
import { listSnapshots } from "../runs/agent-snapshots";
import { AnalysisLog, canonicalJson } from "../runs/analysis-log";
import { loadSnapshotAgent } from "./agent-snapshot";
import type { TrainConfig } from "./config";
import { isScheduledStep } from "./schedule";
import { loadTrainRun } from "./trained-agent";

/** Estimators by name ("policy-change", or a comma-separated list), each with `settings` applied. */
export function resolveEstimators(names: string | readonly string[], settings: Record<string, unknown> = {}): Estimator[] {
  const list = (typeof names === "string" ? names.split(",") : names).map((n) => n.trim()).filter((n) => n !== "");
  if (list.length === 0) throw new ConfigError("no estimator named");
  return list.map((n) => makeEstimator(n, settings));
}

/** Fails when two estimators would write rows under the same name and settings. */
export function checkDistinct(estimators: readonly Estimator[]): void {
  const seen = new Set<string>();
  for (const e of estimators) {
    const key = `${e.name} ${canonicalJson(e.settings)}`;
    if (seen.has(key)) throw new ConfigError(`estimator ${key} is listed twice`);
    seen.add(key);
  }
}

/** The estimators with no rows yet at `step`. */
export function pendingAt(log: AnalysisLog, estimators: readonly Estimator[], step: number): Estimator[] {
  return estimators.filter((e) => !log.has(e.name, e.settings, step));
}

/** Runs `estimators` on `context` and appends each one's rows, checking they say what produced them. */
export async function runAnalysesAt(log: AnalysisLog, estimators: readonly Estimator[], context: AnalysisContext): Promise<number> {
  let written = 0;
  for (const estimator of estimators) {
    const rows: AnalysisRow[] = await estimator.run(context);
    const settings = canonicalJson(estimator.settings);
    for (const row of rows) {
      if (row.estimator !== estimator.name || row.step !== context.step || canonicalJson(row.settings) !== settings) {
        throw new IapoError(`estimator "${estimator.name}" at step ${context.step} returned a row labelled ${row.estimator} / step ${row.step} / settings ${canonicalJson(row.settings)}`);
      }
    }
    log.append(rows);
    written += rows.length;
  }
  return written;
}

export interface AnalyzeOptions {
  /** Analyse the snapshots at multiples of this many steps (and the last step of the run); default: every kept one. */
  every?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface AnalyzeResult {
  /** Snapshot steps analysed (at least one estimator ran). */
  analysed: number[];
  /** Snapshot steps whose rows were all present already. */
  skipped: number[];
  rows: number;
}

/** Runs `estimators` on the snapshots `runDir` kept, appending to its analysis.jsonl. */
export async function analyzeRun(runDir: string, estimators: readonly Estimator[], options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  checkDistinct(estimators);
  const every = options.every;
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw new ConfigError(`every must be a positive integer, got ${every}`);
  const config: TrainConfig = loadTrainRun(runDir).config;
  const kept = listSnapshots(runDir);
  const steps = every === undefined ? kept : kept.filter((s) => isScheduledStep(s, every, config.schedule.totalSteps));
  if (steps.length === 0) {
    throw new IapoError(`${runDir} kept no snapshots${every === undefined ? "" : ` at multiples of ${every}`} (kept: ${kept.join(", ") || "none"})`);
  }
  const log = new AnalysisLog(runDir);
  const result: AnalyzeResult = { analysed: [], skipped: [], rows: 0 };
  const started = Date.now();
  try {
    for (const [i, step] of steps.entries()) {
      if (options.signal?.aborted) break;
      const pending = pendingAt(log, estimators, step);
      if (pending.length === 0) {
        result.skipped.push(step);
        continue;
      }
      const agent = await loadSnapshotAgent(runDir, config, step);
      try {
        result.rows += await runAnalysesAt(log, pending, { agent, env: config.env, step, seed: config.seed, runDir });
      } finally {
        agent.dispose();
      }
      result.analysed.push(step);
      const rate = (i + 1) / Math.max((Date.now() - started) / 1000, 1e-3);
      options.onProgress?.({ label: `analyse ${runDir}`, done: i + 1, total: steps.length, rate, etaSeconds: (steps.length - i - 1) / rate, figures: { step } });
    }
  } finally {
    log.close();
  }
  return result;
}
