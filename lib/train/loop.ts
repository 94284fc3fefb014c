/**
 * The training loop (Algorithm 1/2 of the paper, around SAC): step the environment with the agent's policy,
 * store transitions, update once per step after the initial random steps, evaluate every K steps, log rows,
 * checkpoint. Readable top to bottom; the agent and buffer are passed in behind narrow interfaces.
 *
 * Exactness: everything random draws from seeded generators that are part of the checkpoint (the loop's own
 * Rng, the env's, the agent's), and evaluation uses a fresh env seeded from (seed, evaluation index), so a run
 * resumed from a checkpoint logs exactly the rows the uninterrupted run would have (wall-clock figures aside).
 */
import { NonFiniteError, IapoError } from "../core/errors";
import type { Progress, ProgressListener } from "../core/progress";
import { Rng, type RngState } from "../core/rng";
import { mean, meanAndStd } from "../core/stats";
import type { Env, EnvState } from "../envs/types";
import type { MetricRow } from "../runs/metrics";
import { toEnvAction } from "../envs/actions";
import type { ThreadTuner } from "../backend/thread-tuner";

/** What the loop needs from an agent (SacAgent satisfies it). */
export interface Learner<Batch, Snapshot> {
  /** An action in [-1, 1]^|A| for one observation. "explore" samples the policy; "eval" is deterministic (tanh μ). */
  act(observation: ArrayLike<number>, mode: "explore" | "eval"): Float32Array;
  /** One gradient update; returns metrics with prefixed keys ("train/q1_loss", ...). */
  update(batch: Batch): Record<string, number>;
  getState(): Promise<Snapshot>;
  setState(state: Snapshot): Promise<void>;
  /**
   * Called before each step's updates with a sampler of the step's batches: a learner that pre-trains a part
   * (a learned model, A.5) does it the first time and returns that part's metrics, and null ever after.
   */
  pretrain?(sample: () => Batch): Record<string, number> | null;
}

/** What the loop needs from a replay buffer (ReplayBuffer satisfies it). */
export interface TransitionStore<Batch, Snapshot> {
  readonly size: number;
  add(observation: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObservation: ArrayLike<number>, terminated: boolean): void;
  sample(batchSize: number, rng: Rng): Batch;
  snapshot(): Snapshot;
}

/** The loop's settings (the agent's own hyperparameters live in its config). */
export interface LoopSettings {
  /** Seed of the loop's Rng (random initial actions, replay sampling) and of the evaluation envs. */
  seed: number;
  /** Environment steps to train for in total. */
  totalSteps: number;
  /** Steps of uniformly random actions before the policy acts and updates begin (paper: 5000). */
  initialRandomSteps: number;
  /** Minibatch size for updates. */
  batchSize: number;
  /** Gradient updates per environment step once training started (paper: 1). */
  updatesPerStep: number;
  /** Evaluate every this many steps (and at the end). */
  evalEvery: number;
  /** Episodes per evaluation, with the deterministic policy (0: no evaluation). */
  evalEpisodes: number;
  /** Write a `train/*` row (means over the window) every this many steps. */
  logEvery: number;
  /** Checkpoint every this many steps (and on stop). */
  checkpointEvery: number;
}

/** The loop's own counters, carried from step to step. */
export interface LoopCounters {
  step: number;
  episodes: number;
  episodeReturn: number;
  episodeLength: number;
  /** The observation the next step acts on. */
  observation: Float64Array;
  evaluations: number;
  lastEpisodeReturn: number | null;
  lastEvalReturn: number | null;
  /** Sums of train metrics since the last row, and how many updates/episodes they cover. */
  window: { sums: Record<string, number>; updates: number; episodeReturns: number[]; episodeLengths: number[] };
}

/** A checkpoint: everything needed to continue exactly. */
export interface LoopCheckpoint<BufferSnapshot, AgentSnapshot> {
  loop: LoopCounters;
  /** The loop's Rng (random initial actions, replay sampling). */
  rng: RngState;
  env: EnvState;
  buffer: BufferSnapshot;
  agent: AgentSnapshot;
}

export interface LoopHooks<BufferSnapshot, AgentSnapshot> {
  /** Receives every metrics row. */
  log(row: MetricRow): void;
  /** Saves a checkpoint. */
  checkpoint(step: number, checkpoint: LoopCheckpoint<BufferSnapshot, AgentSnapshot>): void;
  /** A second instance of the task for evaluation; every evaluation episode reseeds it, so reusing it is exact. */
  evalEnv: Env;
  onProgress?: ProgressListener;
  /** Label for progress displays. */
  label: string;
  /** When aborted, the loop checkpoints and returns "interrupted" at the next step boundary. */
  signal?: AbortSignal;
  /** Stop like an abort once this many steps are done (to split a long run into jobs, or to test resume). */
  stopAt?: number;
  /**
   * Times every update and sets the native threads from those times (autoThreadTuner; values never depend on the
   * thread count). Its current count is logged as `time/threads`. The caller creates it and calls its finish().
   */
  threads?: ThreadTuner | null;
  /**
   * Steps at which the caller receives the agent's state (kept snapshots, analyses): after the step's update, log
   * and evaluation, before its checkpoint. It gets `getState()`, never the agent, so it cannot change training.
   */
  observer?: { due(step: number): boolean; observe(step: number, agent: AgentSnapshot): Promise<void> };
}

export type LoopOutcome = "finished" | "interrupted";

/** Deterministic evaluation: mean and std of returns over `episodes` episodes, each with its own seed. */
export function evaluate(agent: Pick<Learner<unknown, unknown>, "act">, env: Env, episodes: number, seedBase: number): { mean: number; std: number; returns: number[]; lengths: number[] } {
  const returns: number[] = [];
  const lengths: number[] = [];
  for (let e = 0; e < episodes; e++) {
    let { observation } = env.reset({ seed: seedBase + e });
    let total = 0, length = 0;
    for (;;) {
      const r = env.step(toEnvAction(agent.act(observation, "eval"), env));
      total += r.reward;
      length++;
      observation = r.observation;
      if (r.terminated || r.truncated) break;
    }
    returns.push(total);
    lengths.push(length);
  }
  return { ...meanAndStd(returns), returns, lengths };
}

/** The seed of evaluation `index` of a run with `seed`: fixed, so resumed runs evaluate on the same episodes. */
export function evalSeed(seed: number, index: number): number {
  return ((seed + 1) * 1_000_003 + index * 1009) >>> 0;
}

const YIELD_EVERY_MS = 50;
const PROGRESS_EVERY_MS = 250;

/**
 * Runs the loop from `state` (a fresh start or a checkpoint) until `settings.totalSteps` or an abort.
 * On NaN/inf in an update it logs nothing more, leaves the last checkpoint intact and throws NonFiniteError.
 */
export async function runLoop<Batch, BufferSnapshot, AgentSnapshot>(
  settings: LoopSettings,
  env: Env,
  agent: Learner<Batch, AgentSnapshot>,
  buffer: TransitionStore<Batch, BufferSnapshot>,
  start: { loop: LoopCounters; rng: RngState },
  hooks: LoopHooks<BufferSnapshot, AgentSnapshot>,
): Promise<LoopOutcome> {
  const state = start.loop;
  const rng = Rng.fromState(start.rng);
  const started = Date.now();
  const startStep = state.step;
  let lastYield = Date.now();
  let lastProgress = 0;
  let windowStart = Date.now();
  let windowStartStep = state.step;
  let observation = state.observation;

  const snapshotState = async (): Promise<LoopCheckpoint<BufferSnapshot, AgentSnapshot>> => ({
    loop: structuredClone({ ...state, observation }),
    rng: rng.getState(),
    env: env.getState(),
    buffer: buffer.snapshot(),
    agent: await agent.getState(),
  });

  const report = (force: boolean): void => {
    const now = Date.now();
    if (!hooks.onProgress || (!force && now - lastProgress < PROGRESS_EVERY_MS)) return;
    lastProgress = now;
    const elapsed = (now - started) / 1000;
    const rate = elapsed > 0 ? (state.step - startStep) / elapsed : 0;
    const p: Progress = {
      label: hooks.label,
      done: state.step,
      total: settings.totalSteps,
      rate,
      etaSeconds: rate > 0 ? (settings.totalSteps - state.step) / rate : null,
      figures: { return: state.lastEpisodeReturn, eval: state.lastEvalReturn },
    };
    hooks.onProgress(p);
  };

  while (state.step < settings.totalSteps) {
    if (hooks.signal?.aborted || (hooks.stopAt !== undefined && state.step >= hooks.stopAt)) {
      hooks.checkpoint(state.step, await snapshotState());
      report(true);
      return "interrupted";
    }
    // --- act: uniform random during the initial steps, then the agent's stochastic policy
    let action: Float32Array;
    if (state.step < settings.initialRandomSteps) {
      action = rng.fillUniform(new Float32Array(env.actionSize), -1, 1) as Float32Array;
    } else {
      action = agent.act(observation, "explore");
    }
    const result = env.step(toEnvAction(action, env));
    // only a true termination stops bootstrapping; a time-limit truncation does not
    buffer.add(observation, action, result.reward, result.observation, result.terminated);
    state.episodeReturn += result.reward;
    state.episodeLength++;
    state.step++;
    if (result.terminated || result.truncated) {
      state.window.episodeReturns.push(state.episodeReturn);
      state.window.episodeLengths.push(state.episodeLength);
      state.lastEpisodeReturn = state.episodeReturn;
      state.episodes++;
      state.episodeReturn = 0;
      state.episodeLength = 0;
      observation = env.reset().observation;
    } else {
      observation = result.observation;
    }

    // --- learn: one update per step once the random phase is over (CleanRL/SB3 `learning_starts`)
    if (state.step >= settings.initialRandomSteps && buffer.size >= settings.batchSize) {
      const pretrained = agent.pretrain?.(() => buffer.sample(settings.batchSize, rng));
      if (pretrained) hooks.log({ step: state.step, ...pretrained });
      for (let u = 0; u < settings.updatesPerStep; u++) {
        const batch = buffer.sample(settings.batchSize, rng);
        const metrics = hooks.threads ? hooks.threads.time(() => agent.update(batch)) : agent.update(batch);
        for (const [k, v] of Object.entries(metrics)) {
          if (!Number.isFinite(v)) throw new NonFiniteError(`${k} is ${v} at step ${state.step}`);
          state.window.sums[k] = (state.window.sums[k] ?? 0) + v;
        }
        state.window.updates++;
      }
    }

    // --- log the window's means
    if (state.step % settings.logEvery === 0) {
      const now = Date.now();
      const row: MetricRow = { step: state.step, episodes: state.episodes };
      const w = state.window;
      if (w.updates > 0) for (const [k, v] of Object.entries(w.sums)) row[k] = v / w.updates;
      if (w.episodeReturns.length > 0) {
        row["train/episode_return"] = mean(w.episodeReturns);
        row["train/episode_length"] = mean(w.episodeLengths);
      }
      row["train/updates"] = w.updates;
      row["time/wall_s"] = (now - started) / 1000;
      row["time/steps_per_s"] = now > windowStart ? ((state.step - windowStartStep) * 1000) / (now - windowStart) : 0;
      if (hooks.threads) row["time/threads"] = hooks.threads.threads;
      hooks.log(row);
      state.window = { sums: {}, updates: 0, episodeReturns: [], episodeLengths: [] };
      windowStart = now;
      windowStartStep = state.step;
    }

    // --- evaluate with the deterministic policy on fresh, seeded episodes
    if (settings.evalEpisodes > 0 && (state.step % settings.evalEvery === 0 || state.step === settings.totalSteps)) {
      const e = evaluate(agent, hooks.evalEnv, settings.evalEpisodes, evalSeed(settings.seed, state.evaluations));
      state.evaluations++;
      state.lastEvalReturn = e.mean;
      hooks.log({
        step: state.step,
        "eval/return_mean": e.mean,
        "eval/return_std": e.std,
        "eval/episode_length": mean(e.lengths),
        "eval/episodes": e.returns.length,
      });
    }

    if (hooks.observer?.due(state.step)) await hooks.observer.observe(state.step, await agent.getState());

    if (state.step % settings.checkpointEvery === 0 || state.step === settings.totalSteps) {
      hooks.checkpoint(state.step, await snapshotState());
    }

    report(state.step === settings.totalSteps);
    // keep notebooks, progress displays and Ctrl-C handling live
    if (Date.now() - lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = Date.now();
    }
  }
  return "finished";
}

/** The loop's counters and Rng at step 0; the first observation comes from `env.reset({seed})`. */
export function initialLoop(seed: number, env: Env): { loop: LoopCounters; rng: RngState } {
  if (!Number.isInteger(seed)) throw new IapoError(`seed must be an integer, got ${seed}`);
  const { observation } = env.reset({ seed });
  return {
    loop: {
      step: 0,
      episodes: 0,
      episodeReturn: 0,
      episodeLength: 0,
      observation,
      evaluations: 0,
      lastEpisodeReturn: null,
      lastEvalReturn: null,
      window: { sums: {}, updates: 0, episodeReturns: [], episodeLengths: [] },
    },
    rng: new Rng(seed ^ 0x5eed).getState(),
  };
}
