/**
 * `train`: one SAC run, start to finish, into a run folder — the function behind `iapo train` and the notebooks.
 * Creates (or resumes) the run folder, builds the env, agent and replay buffer, runs the loop, and records the
 * outcome. A NaN, a crash or Ctrl-C leave every row logged so far and the last checkpoint intact.
 */
import * as path from "node:path";
import { initBackend } from "../backend/select";
import { autoThreadTuner, type ThreadTuner } from "../backend/thread-tuner";
import { IapoError } from "../core/errors";
import type { ProgressListener } from "../core/progress";
import { makeEnv } from "../envs";
import { ReplayBuffer, type ReplayBufferSnapshot } from "../agents/replay-buffer";
import { SacAgent } from "../agents/sac/agent";
import type { AgentSnapshot } from "../agents/sac/state";
import { Rng } from "../core/rng";
import { collectProvenance } from "../runs/provenance";
import { createRun, isRunDir, loadRun, resumeRun, type RunWriter } from "../runs/run-dir";
import { acquireRunLock } from "../runs/run-lock";
import type { MetricRow } from "../runs/metrics";
import { initialLoop, runLoop, type LoopCheckpoint, type LoopOutcome } from "./loop";
import { validateTrainConfig, type TrainConfig } from "./config";

type Checkpoint = LoopCheckpoint<ReplayBufferSnapshot, AgentSnapshot>;

export interface TrainOptions {
  /** The run folder (e.g. data/runs/<experiment>/<name>). */
  runDir: string;
  /**
   * What to do when `runDir` already holds a run: "error" (default), "resume" it from its last checkpoint,
   * or "reuse" it when it finished with the same config (and resume it otherwise) — what notebooks want.
   */
  ifExists?: "error" | "resume" | "reuse";
  onProgress?: ProgressListener;
  /** Abort to stop at the next step: the run checkpoints and is marked "interrupted". */
  signal?: AbortSignal;
  /** Stop the same way once this many environment steps are done (the run can be resumed later). */
  stopAt?: number;
}

export interface TrainResult {
  runDir: string;
  outcome: LoopOutcome | "reused";
  step: number;
  lastEvalReturn: number | null;
}

function sameConfig(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The last deterministic evaluation return a run logged, or null before its first evaluation. */
function lastEvalReturn(rows: readonly MetricRow[]): number | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = rows[i]["eval/return_mean"];
    if (typeof v === "number") return v;
  }
  return null;
}

/**
 * Trains one agent as configured, logging into `options.runDir`. Holds the folder's run lock throughout, so a
 * second trainer of the same folder is refused (RunLockedError) instead of interleaving with this one.
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  validateTrainConfig(config);
  const lock = acquireRunLock(path.resolve(options.runDir));
  const signal = options.signal ? AbortSignal.any([options.signal, lock.lost]) : lock.lost;
  try {
    return await trainLocked(config, { ...options, signal });
  } finally {
    lock.release();
  }
}

async function trainLocked(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const runDir = path.resolve(options.runDir);
  const ifExists = options.ifExists ?? "error";

  if (isRunDir(runDir)) {
    if (ifExists === "error") throw new IapoError(`a run already exists in ${runDir}; resume it (--resume) or choose another run name`);
    const existing = loadRun<TrainConfig>(runDir);
    if (!sameConfig(existing.config, config)) {
      throw new IapoError(`the run in ${runDir} was started with a different config; choose another run name (or delete the folder)`);
    }
    if (ifExists === "reuse" && existing.status?.state === "finished") {
      return { runDir, outcome: "reused", step: existing.status.step, lastEvalReturn: lastEvalReturn(existing.metrics) };
    }
  }

  const backend = await initBackend();
  const provenance = collectProvenance();
  const env = await makeEnv(config.env);
  const evalEnv = await makeEnv(config.env);
  let writer: RunWriter | undefined;
  let agent: SacAgent | undefined;
  let threads: ThreadTuner | null = null;
  let step = 0;
  try {
    const spec = { observationSize: env.observationSize, actionSize: env.actionSize };
    agent = SacAgent.create(config.agent, spec, new Rng(config.seed));
    // a buffer larger than the run would only reserve memory that is never written
    let buffer = new ReplayBuffer(Math.min(config.agent.bufferSize, config.agent.totalSteps), env.observationSize, env.actionSize);
    let start = initialLoop(config.seed, env);

    if (isRunDir(runDir)) {
      const resumed = resumeRun<Checkpoint>(runDir, provenance, backend.name);
      writer = resumed.writer;
      if (resumed.checkpoint) {
        const ck = resumed.checkpoint.state;
        env.setState(ck.env);
        await agent.setState(ck.agent);
        buffer = ReplayBuffer.restore(ck.buffer);
        start = { loop: ck.loop, rng: ck.rng };
      }
    } else {
      writer = createRun(runDir, config, provenance, backend.name);
    }
    step = start.loop.step;
    const w = writer;
    threads = autoThreadTuner();
    const outcome = await runLoop(
      {
        seed: config.seed,
        totalSteps: config.agent.totalSteps,
        initialRandomSteps: config.agent.initialRandomSteps,
        batchSize: config.agent.batchSize,
        updatesPerStep: config.agent.updatesPerStep,
        evalEvery: config.agent.evalEvery,
        evalEpisodes: config.agent.evalEpisodes,
        logEvery: config.logEvery,
        checkpointEvery: config.checkpointEvery,
      },
      env,
      agent,
      buffer,
      start,
      {
        label: `${config.env} ${config.optimizer} seed ${config.seed}`,
        log: (row) => w.log(row),
        checkpoint: (s, state) => {
          step = s;
          w.checkpoint(s, state);
        },
        evalEnv,
        onProgress: options.onProgress,
        signal: options.signal,
        stopAt: options.stopAt,
        threads,
      },
    );
    writer.setStatus(outcome, step);
    return { runDir, outcome, step, lastEvalReturn: lastEvalReturn(loadRun(runDir).metrics) };
  } catch (err) {
    writer?.setStatus("failed", step, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    threads?.finish();
    writer?.close();
    agent?.dispose();
    env.dispose();
    evalEnv.dispose();
  }
}
