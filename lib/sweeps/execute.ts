/**
 * Training one run of a sweep, the same way whichever executor asked: check the job against the sweep schema,
 * resolve its folder inside the runs root, and train it — a finished run is left alone, an unfinished one
 * resumes from its last checkpoint. A run held by another trainer is waited for while its lock could still go
 * stale (its trainer killed), then refused.
 */
import type { ProgressListener } from "../core/progress";
import { makeEstimator } from "../analysis/registry";
import { RunLockedError, staleAfterMs } from "../runs/run-lock";
import { train, type TrainResult } from "../train/train";
import { validateJob } from "./plan";
import { resolveRunFolder } from "./folders";

export interface ExecuteOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Called with each refusal or wait, e.g. to log it. */
  log?: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Trains the run `data` names into `root`; throws ConfigError for a job that does not validate. */
export async function executeJob(data: unknown, root: string, options: ExecuteOptions = {}): Promise<TrainResult> {
  const run = validateJob(data);
  const runDir = resolveRunFolder(root, run.folder);
  // a killed trainer's lock goes stale within staleAfterMs: wait that long (and a beat more) before giving up
  const deadline = Date.now() + staleAfterMs() * 1.5;
  for (;;) {
    try {
      const analyses = run.analyses.map((name) => makeEstimator(name));
      return await train(run.config, { runDir, ifExists: "reuse", signal: options.signal, onProgress: options.onProgress, analyses });
    } catch (err) {
      if (!(err instanceof RunLockedError) || Date.now() > deadline || options.signal?.aborted) throw err;
      options.log?.(`${run.id}: ${err.message}; waiting`);
      await sleep(Math.min(1000, staleAfterMs() / 4));
    }
  }
}
