/**
 * Zero-shot transfer between two runs (Fig. 8d): at every step both kept a snapshot, the iterative optimizer of
 * the run trained with model-free values climbs the model-based estimate of the run trained with model-based
 * values, and the reverse (lib/analysis/zero-shot-transfer.ts), on agents rebuilt from the snapshots.
 */
import { initBackend } from "../backend/select";
import { ConfigError } from "../core/errors";
import type { ProgressListener } from "../core/progress";
import type { AnalysisRow } from "../analysis/estimator";
import { zeroShotTransfer } from "../analysis/zero-shot-transfer";
import { listSnapshots } from "../runs/agent-snapshots";
import { loadSnapshotAgent } from "./agent-snapshot";
import { loadTrainRun } from "./trained-agent";

export interface TransferOptions {
  /** Steps to measure (each must be kept by both runs); default: every step both runs kept. */
  steps?: number[];
  /** The transfer's settings (episodes, timeLimit). */
  settings?: Record<string, unknown>;
  onProgress?: ProgressListener;
}

/** Rows of `zeroShotTransfer` at each common snapshot step of a model-free and a model-based run of one task. */
export async function transferBetweenRuns(modelFreeRun: string, modelBasedRun: string, options: TransferOptions = {}): Promise<AnalysisRow[]> {
  await initBackend();
  const mf = loadTrainRun(modelFreeRun).config;
  const mb = loadTrainRun(modelBasedRun).config;
  if (mf.env !== mb.env) throw new ConfigError(`zero-shot transfer needs runs of one task: ${modelFreeRun} is ${mf.env}, ${modelBasedRun} is ${mb.env}`);
  const kept = new Set(listSnapshots(modelBasedRun));
  const common = listSnapshots(modelFreeRun).filter((s) => kept.has(s));
  const steps = options.steps ?? common;
  const missing = steps.filter((s) => !common.includes(s));
  if (missing.length > 0) throw new ConfigError(`zero-shot transfer: step(s) ${missing.join(", ")} not kept by both runs (common: ${common.join(", ") || "none"})`);
  const rows: AnalysisRow[] = [];
  for (const [i, step] of steps.entries()) {
    const modelFree = await loadSnapshotAgent(modelFreeRun, mf, step);
    try {
      const modelBased = await loadSnapshotAgent(modelBasedRun, mb, step);
      try {
        rows.push(...(await zeroShotTransfer({ modelFree, modelBased }, { env: mb.env, step, seed: mb.seed }, options.settings)));
      } finally {
        modelBased.dispose();
      }
    } finally {
      modelFree.dispose();
    }
    options.onProgress?.({ label: "zero-shot transfer", done: i + 1, total: steps.length, rate: 0, etaSeconds: null, figures: {} });
  }
  return rows;
}
