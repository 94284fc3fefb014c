/**
 * The run schedule: how long a run trains and what the loop around the agent does when — the random warm-up,
 * how many updates each environment step gets, the replay capacity, and when it evaluates, logs, checkpoints and
 * keeps snapshots. None of it changes what one SAC update computes; that is the agent's config (`SacConfig`).
 */
import { ConfigError } from "../core/errors";
import type { Scale } from "../core/scale";

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

/** Schedules of each scale: smoke (seconds, tests), quick (minutes), paper (the paper's budgets, Sec. 4, Table 6). */
export const SCHEDULE_PRESETS: Record<Scale, RunSchedule> = {
  smoke: { totalSteps: 600, initialRandomSteps: 200, updatesPerStep: 1, bufferSize: 10_000, evalEvery: 300, evalEpisodes: 1, logEvery: 50, checkpointEvery: 300, snapshotEvery: 300 },
  quick: { totalSteps: 20_000, initialRandomSteps: 1000, updatesPerStep: 1, bufferSize: 1_000_000, evalEvery: 2000, evalEpisodes: 3, logEvery: 250, checkpointEvery: 5_000, snapshotEvery: 2_000 },
  paper: { totalSteps: 3_000_000, initialRandomSteps: 5000, updatesPerStep: 1, bufferSize: 1_000_000, evalEvery: 10_000, evalEpisodes: 5, logEvery: 1_000, checkpointEvery: 50_000, snapshotEvery: 10_000 },
};

/**
 * The scale's schedule for a run of `totalSteps` (default: the scale's own length). A shorter run keeps its
 * random phase to at most a fifth of it (it still needs steps to learn in) and every period to at most its length.
 */
export function defaultSchedule(scale: Scale, totalSteps?: number): RunSchedule {
  const preset = SCHEDULE_PRESETS[scale];
  if (totalSteps === undefined) return { ...preset };
  return {
    ...preset,
    totalSteps,
    initialRandomSteps: Math.min(preset.initialRandomSteps, Math.floor(totalSteps / 5)),
    evalEvery: Math.min(preset.evalEvery, totalSteps),
    logEvery: Math.min(preset.logEvery, totalSteps),
    checkpointEvery: Math.min(preset.checkpointEvery, totalSteps),
    snapshotEvery: Math.min(preset.snapshotEvery, totalSteps),
  };
}

/** True at the steps of something done every `every` steps and at the end of the run (snapshots, analyses). */
export function isScheduledStep(step: number, every: number, totalSteps: number): boolean {
  return step % every === 0 || step === totalSteps;
}

/** True for the name of a schedule field (how the CLI's `--set` tells schedule settings from agent ones). */
export function isScheduleField(field: string): field is keyof RunSchedule {
  return (SCHEDULE_FIELDS as readonly string[]).includes(field);
}

function checkScheduleField(field: string): void {
  if (!isScheduleField(field)) throw new ConfigError(`unknown schedule setting "${field}"; known: ${SCHEDULE_FIELDS.join(", ")}`);
}

/** Applies `changes` (e.g. from `--set snapshotEvery=500`); an unknown field fails naming the known ones. */
export function applyScheduleChanges(schedule: RunSchedule, changes: Record<string, unknown>): RunSchedule {
  for (const [field, value] of Object.entries(changes)) {
    checkScheduleField(field);
    (schedule as unknown as Record<string, unknown>)[field] = value;
  }
  return schedule;
}

/** Checks every field; throws ConfigError naming the first bad one. Returns the schedule unchanged. */
export function validateSchedule(s: RunSchedule): RunSchedule {
  if (typeof s !== "object" || s === null) throw new ConfigError(`schedule must be an object, got ${JSON.stringify(s)}`);
  const minimum: Record<keyof RunSchedule, number> = {
    totalSteps: 1, initialRandomSteps: 0, updatesPerStep: 0, bufferSize: 1, evalEvery: 1, evalEpisodes: 0, logEvery: 1, checkpointEvery: 1, snapshotEvery: 0,
  };
  for (const field of SCHEDULE_FIELDS) {
    const v = s[field] as unknown;
    if (typeof v !== "number" || !Number.isInteger(v) || v < minimum[field]) {
      throw new ConfigError(`schedule.${field} must be an integer >= ${minimum[field]}, got ${JSON.stringify(v)}`);
    }
  }
  Object.keys(s).forEach(checkScheduleField);
  if (s.initialRandomSteps > s.totalSteps) throw new ConfigError(`schedule.initialRandomSteps must be at most totalSteps (${s.totalSteps}), got ${s.initialRandomSteps}`);
  return s;
}
