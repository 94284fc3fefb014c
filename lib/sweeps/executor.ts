/**
 * One interface in front of the engines that run a sweep: a local process pool, a BullMQ queue on Redis, a Slurm
 * job array. Each gets only the runs still to do (never a finished one, nor one a trainer holds now), and each
 * writes the same run folders under the same runs root; engines only decide where and when a run trains.
 */
import { runProgress } from "./run-state";
import type { PlannedRun } from "./plan";
import type { SweepFile } from "./spec";

export const EXECUTORS = ["local", "bullmq", "slurm"] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export interface SubmitReport {
  /** Runs handed to the engine (for the local pool: trained, with their outcome). */
  submitted: { id: string; note: string }[];
  /** Runs left out, and why (finished, being trained, already queued). */
  skipped: { id: string; note: string }[];
}

export interface Executor {
  readonly name: ExecutorName;
  /** Hands `runs` (already filtered to the ones still to do) to the engine. */
  submit(spec: SweepFile, runs: PlannedRun[], root: string): Promise<SubmitReport>;
  /** The engine's view of each run (queue state, Slurm task and node), by run id; absent where it knows nothing. */
  engineStatus(spec: SweepFile, runs: PlannedRun[], root: string): Promise<Map<string, string>>;
  close(): Promise<void>;
}

/** Splits the sweep's runs into those to submit and those to leave alone (finished, or trained right now). */
export function runsToDo(runs: PlannedRun[], root: string): { todo: PlannedRun[]; skipped: SubmitReport["skipped"] } {
  const todo: PlannedRun[] = [];
  const skipped: SubmitReport["skipped"] = [];
  for (const run of runs) {
    const p = runProgress(root, run);
    if (p.state === "finished") skipped.push({ id: run.id, note: "finished" });
    else if (p.state === "running") skipped.push({ id: run.id, note: `being trained by ${p.worker}` });
    else todo.push(run);
  }
  return { todo, skipped };
}
