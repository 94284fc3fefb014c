/**
 * Where each run of a sweep stands, read from its run folder alone (status.json, metrics.jsonl, run.lock), so
 * `iapo sweep plan` and `iapo sweep status` tell the same story whichever executor ran it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadRun } from "../runs/run-dir";
import { readRunLock } from "../runs/run-lock";
import { runLength, type PlannedRun } from "./plan";

/**
 * missing: never started; running: a trainer holds its lock; interrupted: stopped or killed before the end (it
 * resumes from its last checkpoint); failed: stopped by an error (NaN, crash); finished.
 */
export type SweepRunState = "missing" | "running" | "interrupted" | "failed" | "finished";

export interface RunProgress {
  id: string;
  state: SweepRunState;
  /** Environment steps reached (last logged row). */
  step: number;
  total: number;
  /** Steps per second over the last logged window, or null. */
  stepsPerSecond: number | null;
  lastEvalReturn: number | null;
  /** Who trains it now (lock holder), or null. */
  worker: string | null;
  error?: string;
}

export function runProgress(root: string, run: PlannedRun): RunProgress {
  const dir = path.join(root, run.folder);
  const base: RunProgress = { id: run.id, state: "missing", step: 0, total: runLength(run.config).totalSteps, stepsPerSecond: null, lastEvalReturn: null, worker: null };
  const lock = fs.existsSync(dir) ? readRunLock(dir) : null;
  const live = lock !== null && !lock.stale;
  if (live) base.worker = lock.owner;
  if (!fs.existsSync(path.join(dir, "run.json"))) return live ? { ...base, state: "running" } : base;
  const loaded = loadRun(dir);
  const rows = loaded.metrics;
  const last = rows[rows.length - 1];
  const evalRow = [...rows].reverse().find((r) => typeof r["eval/return_mean"] === "number");
  const rateRow = [...rows].reverse().find((r) => typeof r["time/steps_per_s"] === "number");
  const status = loaded.status;
  const state: SweepRunState = status?.state === "finished" ? "finished" : live ? "running" : status?.state === "failed" ? "failed" : "interrupted";
  return {
    ...base,
    state,
    step: Math.max(last?.step ?? 0, state === "finished" ? status!.step : 0),
    stepsPerSecond: rateRow ? (rateRow["time/steps_per_s"] as number) : null,
    lastEvalReturn: evalRow ? (evalRow["eval/return_mean"] as number) : null,
    ...(status?.error ? { error: status.error } : {}),
  };
}
