/**
 * How fast a config trains on this machine: a short run of the real training loop (the agent, the buffer, the
 * thread tuner `train` uses) timed after a warm-up, beside the random phase's and the evaluation's step rates.
 * What `iapo reproduce` estimates a plan's cost from, and what the bench's training suite reports.
 */
import { SacAgent } from "../agents/sac/agent";
import { ReplayBuffer } from "../agents/replay-buffer";
import { initBackend } from "../backend/select";
import { autoThreadTuner, type ThreadTunerStats } from "../backend/thread-tuner";
import { Rng } from "../core/rng";
import { makeEnv } from "../envs";
import { toEnvAction } from "../envs/actions";
import type { Env } from "../envs/types";
import type { TrainConfig } from "./config";
import { evaluate, initialLoop, runLoop } from "./loop";

export interface TrainingSpeed {
  /** Environment steps per second once learning started: acting, the env step and `updatesPerStep` updates. */
  learningStepsPerSecond: number;
  /** Environment steps per second of the random phase (uniform actions, no updates). */
  randomStepsPerSecond: number;
  /** Steps per second of deterministic evaluation (the policy's eval action and the env step). */
  evalStepsPerSecond: number;
  /** The task's episode limit in steps (an evaluation episode lasts at most this long). */
  episodeLimit: number;
  /** Learning steps the rate was timed over. */
  timedSteps: number;
  /** What the native thread tuner did in the timed run, or null without the native addon. */
  threads: ThreadTunerStats | null;
}

export interface SpeedProbeOptions {
  /** Learning steps timed (default 100). */
  timedSteps?: number;
  /**
   * Learning steps before the timed window (default 100): V8 optimises an update's JavaScript over its first few
   * dozen calls (a fresh agent's first direct updates run ~1.5x slower than later ones), and a run spends all but
   * its first minute past that.
   */
  warmSteps?: number;
}

/** Times `steps` uniform-random env steps (resetting at episode ends): the random phase's rate. */
function randomStepsPerSecond(env: Env, steps: number, rng: Rng): number {
  env.reset({ seed: 0 });
  const action = new Float32Array(env.actionSize);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const r = env.step(toEnvAction(rng.fillUniform(action, -1, 1) as Float32Array, env));
    if (r.terminated || r.truncated) env.reset();
  }
  return (steps * 1000) / Math.max(1e-3, performance.now() - t0);
}

/** Measures how fast `config` trains here (initialises the tensor backend). */
export async function measureTrainingSpeed(config: TrainConfig, options: SpeedProbeOptions = {}): Promise<TrainingSpeed> {
  await initBackend();
  const timed = options.timedSteps ?? 100;
  const warm = options.warmSteps ?? 100;
  // random steps to fill a batch, then the warm-up, rounded to a multiple of the window so that the row logged at
  // the end covers exactly the timed steps
  const warmup = Math.ceil((config.agent.batchSize + warm) / timed) * timed;
  const total = warmup + timed;
  const env = await makeEnv(config.env);
  const evalEnv = await makeEnv(config.env);
  const agent = SacAgent.create(config.agent, { observationSize: env.observationSize, actionSize: env.actionSize }, new Rng(config.seed));
  const threads = autoThreadTuner();
  try {
    const random = randomStepsPerSecond(env, 1000, new Rng(config.seed));
    let rate = NaN;
    await runLoop(
      {
        seed: config.seed, totalSteps: total, initialRandomSteps: warmup - warm, batchSize: config.agent.batchSize, updatesPerStep: config.schedule.updatesPerStep,
        evalEvery: total, evalEpisodes: 0, logEvery: timed, checkpointEvery: total,
      },
      env,
      agent,
      new ReplayBuffer(total, env.observationSize, env.actionSize),
      initialLoop(config.seed, env),
      {
        label: "speed probe",
        evalEnv,
        log: (row) => {
          if (row.step === total) rate = row["time/steps_per_s"] as number;
        },
        checkpoint: () => undefined,
        threads,
      },
    );
    const t0 = performance.now();
    const episode = evaluate(agent, evalEnv, 1, 0);
    const evalRate = (episode.lengths[0] * 1000) / Math.max(1e-3, performance.now() - t0);
    return { learningStepsPerSecond: rate, randomStepsPerSecond: random, evalStepsPerSecond: evalRate, episodeLimit: env.timeLimit, timedSteps: timed, threads: threads?.stats() ?? null };
  } finally {
    threads?.finish();
    agent.dispose();
    env.dispose();
    evalEnv.dispose();
  }
}
