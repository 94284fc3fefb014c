/**
 * The local executor: a pool of worker slots on this machine, each run in its own child process (a crash or NaN
 * ends only that run), forked and warmed while the slot's previous run trains so that no run waits for a process
 * to start. Needs nothing installed. Aborting (Ctrl-C) checkpoints every running run.
 */
import * as os from "node:os";
import { jobFor, type PlannedRun } from "./plan";
import { ChildPool, type ChildResult } from "./child";
import type { ChildProgress } from "./exec-child";
import type { Executor, SubmitReport } from "./executor";
import type { SweepFile } from "./spec";

export interface LocalOptions {
  /** Runs at once; default: the core count. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (id: string, p: ChildProgress) => void;
  onDone?: (id: string, outcome: string, message: string, result: ChildResult) => void;
}

export function localExecutor(options: LocalOptions = {}): Executor {
  const slots = Math.max(1, options.workers ?? os.cpus().length);
  return {
    name: "local",
    async submit(spec: SweepFile, runs: PlannedRun[], root: string): Promise<SubmitReport> {
      const report: SubmitReport = { submitted: [], skipped: [] };
      const pool = new ChildPool({ warmEnvs: spec.tasks });
      let next = 0;
      // a warm child for each first run, then, once a run has started, one for the slot's next run to come
      const warmAhead = (): void => pool.keepWarm(options.signal?.aborted ? 0 : Math.min(slots, runs.length - next));
      warmAhead();
      const slot = async (): Promise<void> => {
        while (next < runs.length && !options.signal?.aborted) {
          const run = runs[next++];
          const r = await pool.run(jobFor(spec, run), root, { signal: options.signal, onProgress: (p) => options.onProgress?.(run.id, p), onStart: warmAhead });
          report.submitted.push({ id: run.id, note: r.outcome === "finished" ? "finished" : `${r.outcome}: ${r.message}` });
          options.onDone?.(run.id, r.outcome, r.message, r);
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(slots, runs.length) }, slot));
      } finally {
        await pool.close();
      }
      for (const run of runs.slice(next)) report.skipped.push({ id: run.id, note: "not started (stopped)" });
      return report;
    },
    async engineStatus(): Promise<Map<string, string>> {
      return new Map(); // the run folders say everything
    },
    async close(): Promise<void> {},
  };
}
