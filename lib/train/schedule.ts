/**
 * Checking and changing a run schedule (its shape and values per scale are the presets': presets/schedule.ts),
 * and when scheduled things fall due.
 */
import { ConfigError } from "../core/errors";
import { SCHEDULE_FIELDS, type RunSchedule } from "../presets/schedule";

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
