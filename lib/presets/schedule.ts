/**
 * The run schedule's shape and its values per scale: how long a run trains and what the loop around the agent
 * does when — the random warm-up, how many updates each environment step gets, the replay capacity, and when it
 * evaluates, logs, checkpoints and keeps snapshots. None of it changes what one SAC update computes; that is the
 * agent's config (`SacConfig`). Checking and changing a schedule is the training loop's (train/schedule.ts).
 */
import type { Scale } from "../core/scale";
import { TABLE6 } from "./paper-tables";

export interface RunSchedule {
  /** Environment steps of the whole run. */
  totalSteps: number;
  /** Uniform-random actions before the policy acts and learning starts (Table 6: 5e3). */
  initialRandomSteps: number;
  /** Gradient updates per environment step once learning started (SAC: 1). */
  updatesPerStep: number;
  /** Replay buffer capacity in transitions (Table 6: 1e6; a run never holds more than totalSteps). */
  bufferSize: number;
  /** Deterministic evaluation (action tanh μ) every this many environment steps, and at the end. */
  evalEvery: number;
  /** Episodes per evaluation (0: no evaluation). */
  evalEpisodes: number;
  /** Write a row of train metrics (means since the last row) every this many steps. */
  logEvery: number;
  /** Checkpoint (everything, for exact resume) every this many steps, at the end and on Ctrl-C. */
  checkpointEvery: number;
  /**
   * Keep an agent-only snapshot (networks and α, for analyses over training) every this many steps and at the
   * end; 0: none (analysed steps still keep theirs).
   */
  snapshotEvery: number;
}

export const SCHEDULE_FIELDS: readonly (keyof RunSchedule)[] = [
  "totalSteps", "initialRandomSteps", "updatesPerStep", "bufferSize", "evalEvery", "evalEpisodes", "logEvery", "checkpointEvery", "snapshotEvery",
];

/**
 * Schedules of each scale: smoke (seconds, tests), quick (minutes), paper (the paper's budgets: 3M steps as in
 * Figure 5 and the authors' main.py, Table 6's 5e3 random steps and 1e6 replay; the text does not say how often
 * it evaluated, see the presets for the authors' code's choice).
 */
export const SCHEDULE_PRESETS: Readonly<Record<Scale, Readonly<RunSchedule>>> = {
  smoke: { totalSteps: 600, initialRandomSteps: 200, updatesPerStep: 1, bufferSize: 10_000, evalEvery: 300, evalEpisodes: 1, logEvery: 50, checkpointEvery: 300, snapshotEvery: 300 },
  quick: { totalSteps: 20_000, initialRandomSteps: 1000, updatesPerStep: 1, bufferSize: 1_000_000, evalEvery: 2000, evalEpisodes: 3, logEvery: 250, checkpointEvery: 5_000, snapshotEvery: 2_000 },
  paper: { totalSteps: 3_000_000, initialRandomSteps: TABLE6.initialRandomSteps, updatesPerStep: 1, bufferSize: TABLE6.replayBufferSize, evalEvery: 10_000, evalEpisodes: 5, logEvery: 1_000, checkpointEvery: 50_000, snapshotEvery: 10_000 },
};

/**
 * The scale's schedule for a run of `totalSteps` (default, or equal to the scale's own length: the scale's
 * schedule as it is). A shorter run keeps its random phase to at most a fifth of it (it still needs steps to
 * learn in) and every period to at most its length.
 */
export function defaultSchedule(scale: Scale, totalSteps?: number): RunSchedule {
  return fitSchedule(SCHEDULE_PRESETS[scale], totalSteps);
}

/** `base` for a run of `totalSteps` steps, shrunk as `defaultSchedule` says. */
export function fitSchedule(base: Readonly<RunSchedule>, totalSteps?: number): RunSchedule {
  if (totalSteps === undefined || totalSteps === base.totalSteps) return { ...base };
  return {
    ...base,
    totalSteps,
    initialRandomSteps: Math.min(base.initialRandomSteps, Math.floor(totalSteps / 5)),
    evalEvery: Math.min(base.evalEvery, totalSteps),
    logEvery: Math.min(base.logEvery, totalSteps),
    checkpointEvery: Math.min(base.checkpointEvery, totalSteps),
    snapshotEvery: Math.min(base.snapshotEvery, totalSteps),
  };
}
