/**
 * Zero-shot transfer between two runs (Fig. 8d): at every step both kept a snapshot, the iterative optimizer of
 * the run trained with model-free values climbs the model-based estimate of the run trained with model-based
 * values, and the reverse, beside each on its own values (lib/analysis/zero-shot-transfer.ts), on agents rebuilt
 * from the snapshots. `logTransferBetweenRuns` appends the rows to the analysis.jsonl of the run whose optimizer
 * each row evaluates, where `loggedAnalysisRows(runs, "zero-shot-transfer")` reads them.
 */
import * as path from "node:path";
import { initBackend } from "../backend/select";
import { ConfigError } from "../core/errors";
import type { ProgressListener } from "../core/progress";
import type { Run } from "../runs/run-dir";
import type { AnalysisRow } from "../analysis/estimator";
import { zeroShotTransfer, zeroShotTransferSettings, ZERO_SHOT_TRANSFER } from "../analysis/zero-shot-transfer";
import { AnalysisLog, canonicalJson, readAnalysisRows } from "../runs/analysis-log";
import { listSnapshots } from "../runs/agent-snapshots";
import type { ValueEstimate } from "../agents/model-based/config";
import { loadSnapshotAgent } from "./agent-snapshot";
import type { TrainConfig } from "./config";
import { loadTrainRun } from "./trained-agent";

export interface TransferOptions {
  /** Steps to measure (each must be kept by both runs); default: every step both runs kept. */
  steps?: number[];
  /** The transfer's settings (episodes, timeLimit). */
  settings?: Record<string, unknown>;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/**
 * A row of the transfer with the names of the run whose optimizer acted and of the run whose value estimate it
 * climbed (`runName`).
 */
export type TransferRow = AnalysisRow & { optimizer_run: string; value_estimate_run: string };

/** A run's folder and its parent's (the experiment), e.g. "10-model-free-smoke/Pendulum-v1_iterative_seed0". */
function runName(run: Run<TrainConfig>): string {
  return `${path.basename(path.dirname(run.dir))}/${run.id}`;
}

/** The two runs of a transfer, by the value estimate each trained with. */
type TransferRuns = Record<ValueEstimate, Run<TrainConfig>>;

/**
 * The runs at `dirA` and `dirB`, in either order, checked before any snapshot loads: both iterative (a direct
 * optimizer never reads the value estimate while it acts), one of each value estimate, one task.
 */
function transferRuns(dirA: string, dirB: string): TransferRuns {
  const [a, b] = [loadTrainRun(dirA), loadTrainRun(dirB)];
  for (const run of [a, b]) {
    if (run.config.optimizer !== "iterative") {
      throw new ConfigError(`zero-shot transfer: ${run.dir} trained a ${run.config.optimizer} optimizer; transfer needs iterative ones (a direct optimizer never reads the value estimate while it acts)`);
    }
  }
  const [ea, eb] = [a.config.agent.valueEstimate, b.config.agent.valueEstimate];
  if (ea === eb) throw new ConfigError(`zero-shot transfer needs one model-free and one model-based run; ${dirA} and ${dirB} both trained with ${ea} values`);
  if (a.config.env !== b.config.env) throw new ConfigError(`zero-shot transfer needs runs of one task: ${dirA} is ${a.config.env}, ${dirB} is ${b.config.env}`);
  return ea === "model-free" ? { "model-free": a, "model-based": b } : { "model-free": b, "model-based": a };
}

/** `wanted` (default: every step both runs kept), each checked to be kept by both. */
function commonSteps(runs: TransferRuns, wanted: number[] | undefined): number[] {
  const mf = runs["model-free"].dir;
  const mb = runs["model-based"].dir;
  const kept = new Set(listSnapshots(mb));
  const common = listSnapshots(mf).filter((s) => kept.has(s));
  if (common.length === 0) {
    throw new ConfigError(`zero-shot transfer: no snapshot step kept by both runs (${mf}: ${listSnapshots(mf).join(", ") || "none"}; ${mb}: ${[...kept].join(", ") || "none"})`);
  }
  const steps = wanted ?? common;
  const missing = steps.filter((s) => !common.includes(s));
  if (missing.length > 0) throw new ConfigError(`zero-shot transfer: step(s) ${missing.join(", ")} not kept by both runs (common: ${common.join(", ")})`);
  return steps;
}

/** The four rows of one step, on agents rebuilt from both runs' snapshots (disposed after). */
async function transferAt(runs: TransferRuns, step: number, settings: Record<string, unknown>): Promise<TransferRow[]> {
  const [mf, mb] = [runs["model-free"], runs["model-based"]];
  const modelFree = await loadSnapshotAgent(mf.dir, mf.config, step);
  try {
    const modelBased = await loadSnapshotAgent(mb.dir, mb.config, step);
    try {
      const rows = await zeroShotTransfer({ modelFree, modelBased }, { env: mb.config.env, step, seed: mb.config.seed }, settings);
      return rows.map((r) => ({ ...r, optimizer_run: runName(runs[r.optimizer_trained_on as ValueEstimate]), value_estimate_run: runName(runs[r.value_estimate as ValueEstimate]) }));
    } finally {
      modelBased.dispose();
    }
  } finally {
    modelFree.dispose();
  }
}

/** Rows of `zeroShotTransfer` at each common snapshot step of a model-free and a model-based run (in either order). */
export async function transferBetweenRuns(runA: string, runB: string, options: TransferOptions = {}): Promise<TransferRow[]> {
  const runs = transferRuns(runA, runB);
  const steps = commonSteps(runs, options.steps);
  await initBackend();
  const rows: TransferRow[] = [];
  for (const [i, step] of steps.entries()) {
    if (options.signal?.aborted) break;
    rows.push(...(await transferAt(runs, step, options.settings ?? {})));
    options.onProgress?.({ label: "zero-shot transfer", done: i + 1, total: steps.length, rate: 0, etaSeconds: null, figures: { step } });
  }
  return rows;
}

export interface TransferLogResult {
  /** Steps measured now. */
  measured: number[];
  /** Steps whose rows both runs held already (same settings, same partner run). */
  skipped: number[];
  rows: number;
  /** The analysis.jsonl files written to. */
  files: string[];
}

/** Identifies a logged transfer row: its step, settings, and the runs of its optimizer and of its values. */
function transferKey(row: Record<string, unknown>): string {
  return `${String(row.step)}\u0000${canonicalJson(row.settings)}\u0000${String(row.optimizer_run)}\u0000${String(row.value_estimate_run)}`;
}

/**
 * `transferBetweenRuns`, each row appended to the analysis.jsonl of the run whose optimizer it evaluates. A step
 * whose four rows are there already (same settings and partner run) is skipped, so an interrupted transfer
 * continues where it stopped; a run transferred against two partners holds both, told apart by `value_estimate_run`.
 */
export async function logTransferBetweenRuns(runA: string, runB: string, options: TransferOptions = {}): Promise<TransferLogResult> {
  const runs = transferRuns(runA, runB);
  const steps = commonSteps(runs, options.steps);
  const settings = canonicalJson(zeroShotTransferSettings(options.settings ?? {}));
  const logged = new Set<string>();
  for (const run of Object.values(runs)) {
    for (const row of readAnalysisRows(run.dir)) if (row.estimator === ZERO_SHOT_TRANSFER) logged.add(transferKey(row));
  }
  const keysAt = (step: number): string[] =>
    (["model-free", "model-based"] as const).flatMap((o) => (["model-free", "model-based"] as const).map((v) => `${step}\u0000${settings}\u0000${runName(runs[o])}\u0000${runName(runs[v])}`));
  await initBackend();
  const logs: Record<ValueEstimate, AnalysisLog> = { "model-free": new AnalysisLog(runs["model-free"].dir), "model-based": new AnalysisLog(runs["model-based"].dir) };
  const result: TransferLogResult = { measured: [], skipped: [], rows: 0, files: Object.values(logs).map((l) => l.file) };
  try {
    for (const [i, step] of steps.entries()) {
      if (options.signal?.aborted) break;
      if (keysAt(step).every((k) => logged.has(k))) {
        result.skipped.push(step);
        continue;
      }
      const rows = (await transferAt(runs, step, options.settings ?? {})).filter((r) => !logged.has(transferKey(r)));
      for (const estimate of ["model-free", "model-based"] as const) logs[estimate].append(rows.filter((r) => r.optimizer_trained_on === estimate));
      result.rows += rows.length;
      result.measured.push(step);
      options.onProgress?.({ label: "zero-shot transfer", done: i + 1, total: steps.length, rate: 0, etaSeconds: null, figures: { step } });
    }
  } finally {
    for (const log of Object.values(logs)) log.close();
  }
  return result;
}
