/**
 * `train`: one SAC run, start to finish, into a run folder — the function behind `iapo train` and the notebooks.
 * Creates (or resumes) the run folder, builds the env, agent and replay buffer, runs the loop, keeps agent-only
 * snapshots, runs the chosen analyses on them as it goes, and records the outcome. A NaN, a crash or Ctrl-C leave
 * every row logged so far and the last checkpoint intact.
 */
import * as path from "node:path";
import { initBackend } from "../backend/select";
import { autoThreadTuner, type ThreadTuner } from "../backend/thread-tuner";
import type { Estimator } from "../analysis/estimator";
import { ConfigError, IapoError } from "../core/errors";
import type { ProgressListener } from "../core/progress";
import { makeEnv } from "../envs";
import { ReplayBuffer, type ReplayBufferSnapshot } from "../agents/replay-buffer";
import { SacAgent } from "../agents/sac/agent";
import type { AgentSnapshot } from "../agents/sac/state";
import { Rng } from "../core/rng";
import { collectProvenance } from "../runs/provenance";
import { AnalysisLog, canonicalJson } from "../runs/analysis-log";
import { createRun, isRunDir, loadRun, resumeRun, type RunWriter } from "../runs/run-dir";
import { acquireRunLock } from "../runs/run-lock";
import type { MetricRow } from "../runs/metrics";
import { initialLoop, runLoop, type LoopCheckpoint, type LoopHooks, type LoopOutcome } from "./loop";
import { validateTrainConfig, type TrainConfig } from "./config";
import { agentFromWeights, agentWeights } from "./agent-snapshot";
import { analyzeRun, checkDistinct, pendingAt, runAnalysesAt } from "./analyses";
import { isScheduledStep } from "./schedule";
import { loadTrainRun } from "./trained-agent";

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
  /**
   * Estimators (`makeEstimator`) run every `analyzeEvery` steps and at the end, on the agent as it is then;
   * their rows go to analysis.jsonl. A snapshot is kept at each analysed step too, so `iapo analyze` can redo
   * them. A reused run gets them from its kept snapshots instead.
   */
  analyses?: readonly Estimator[];
  /** Steps between analyses (default: the schedule's snapshotEvery). */
  analyzeEvery?: number;
}

export interface TrainResult {
  runDir: string;
  outcome: LoopOutcome | "reused";
  step: number;
  lastEvalReturn: number | null;
}

function sameConfig(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Steps between live analyses; none without analyses. */
function analysisPeriod(config: TrainConfig, options: TrainOptions): number | null {
  if (!options.analyses?.length) return null;
  checkDistinct(options.analyses);
  const every = options.analyzeEvery ?? config.schedule.snapshotEvery;
  if (!Number.isInteger(every) || every < 1) {
    throw new ConfigError(`analyzeEvery must be a positive integer${options.analyzeEvery === undefined ? " (schedule.snapshotEvery is 0: give analyzeEvery)" : ""}, got ${every}`);
  }
  return every;
}

/**
 * The loop's observer: keeps a snapshot every `snapshotEvery` steps, and at each analysed step keeps one and runs
 * the analyses still missing there on an agent rebuilt from it (the same agent `iapo analyze` would rebuild).
 */
function snapshotObserver(config: TrainConfig, writer: RunWriter, analyses: readonly Estimator[], analyzeEvery: number | null, log: AnalysisLog | null, runDir: string): LoopHooks<unknown, AgentSnapshot>["observer"] {
  const { snapshotEvery, totalSteps } = config.schedule;
  const snapshotDue = (step: number): boolean => snapshotEvery > 0 && isScheduledStep(step, snapshotEvery, totalSteps);
  const analysisDue = (step: number): boolean => analyzeEvery !== null && isScheduledStep(step, analyzeEvery, totalSteps);
  return {
    due: (step) => snapshotDue(step) || analysisDue(step),
    observe: async (step, state) => {
      const weights = agentWeights(state, step);
      writer.snapshot(step, weights);
      const pending = log && analysisDue(step) ? pendingAt(log, analyses, step) : [];
      if (!log || pending.length === 0) return;
      const agent = await agentFromWeights(config, weights);
      try {
        await runAnalysesAt(log, pending, { agent, env: config.env, step, seed: config.seed, runDir });
      } finally {
        agent.dispose();
      }
    },
  };
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
  const analyses = options.analyses ?? [];
  const analyzeEvery = analysisPeriod(config, options);

  if (isRunDir(runDir)) {
    if (ifExists === "error") throw new IapoError(`a run already exists in ${runDir}; resume it (--resume) or choose another run name`);
    const existing = loadTrainRun(runDir);
    if (!sameConfig(existing.config, config)) {
      throw new IapoError(`the run in ${runDir} was started with a different config; choose another run name (or delete the folder)`);
    }
    if (ifExists === "reuse" && existing.status?.state === "finished") {
      if (analyzeEvery !== null) {
        await initBackend();
        await analyzeRun(runDir, analyses, { every: analyzeEvery, onProgress: options.onProgress, signal: options.signal });
      }
      return { runDir, outcome: "reused", step: existing.status.step, lastEvalReturn: lastEvalReturn(existing.metrics) };
    }
  }

  const backend = await initBackend();
  const provenance = collectProvenance();
  const env = await makeEnv(config.env);
  const evalEnv = await makeEnv(config.env);
  let writer: RunWriter | undefined;
  let log: AnalysisLog | null = null;
  let agent: SacAgent | undefined;
  let threads: ThreadTuner | null = null;
  let step = 0;
  try {
    const spec = { observationSize: env.observationSize, actionSize: env.actionSize };
    agent = SacAgent.create(config.agent, spec, new Rng(config.seed));
    // a buffer larger than the run would only reserve memory that is never written
    let buffer = new ReplayBuffer(Math.min(config.schedule.bufferSize, config.schedule.totalSteps), env.observationSize, env.actionSize);
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
    // opened after resumeRun, which sets aside the rows of steps after the checkpoint
    if (analyzeEvery !== null) log = new AnalysisLog(runDir);
    threads = autoThreadTuner();
    const s = config.schedule;
    const outcome = await runLoop(
      {
        seed: config.seed,
        totalSteps: s.totalSteps,
        initialRandomSteps: s.initialRandomSteps,
        batchSize: config.agent.batchSize,
        updatesPerStep: s.updatesPerStep,
        evalEvery: s.evalEvery,
        evalEpisodes: s.evalEpisodes,
        logEvery: s.logEvery,
        checkpointEvery: s.checkpointEvery,
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
        observer: snapshotObserver(config, w, analyses, analyzeEvery, log, runDir),
      },
    );
    writer.setStatus(outcome, step);
    return { runDir, outcome, step, lastEvalReturn: lastEvalReturn(loadRun(runDir).metrics) };
  } catch (err) {
    writer?.setStatus("failed", step, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    threads?.finish();
    log?.close();
    writer?.close();
    agent?.dispose();
    env.dispose();
    evalEnv.dispose();
  }
}
