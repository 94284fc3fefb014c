import { ConfigError } from "./errors";

/**
 * The one scale knob shared by every notebook, script and test: how big an experiment runs.
 * - `smoke`: seconds; proves the code path (tests use it).
 * - `quick`: minutes on a laptop-class CPU; enough to see the trends (the default for the main job).
 * - `paper`: the paper's budgets (millions of steps, 5 seeds); hours to days.
 */
export const SCALES = ["smoke", "quick", "paper"] as const;
export type Scale = (typeof SCALES)[number];

/** The environment variable that selects the scale. */
export const SCALE_ENV_VAR = "IAPO_SCALE";

export function isScale(value: string): value is Scale {
  return (SCALES as readonly string[]).includes(value);
}

/** Parses a scale name, failing with a message that lists the valid ones. */
export function parseScale(value: string, source = "scale"): Scale {
  const trimmed = value.trim().toLowerCase();
  if (!isScale(trimmed)) {
    throw new ConfigError(`${source}: unknown scale "${value}"; expected one of ${SCALES.join(", ")}`);
  }
  return trimmed;
}

/**
 * The active scale: `IAPO_SCALE` when set (an unknown value is an error, never silently ignored),
 * otherwise `fallback` (`quick` unless the caller says otherwise).
 */
export function activeScale(env: NodeJS.ProcessEnv = process.env, fallback: Scale = "quick"): Scale {
  const raw = env[SCALE_ENV_VAR];
  if (raw === undefined || raw.trim() === "") return fallback;
  return parseScale(raw, SCALE_ENV_VAR);
}

/** Picks the value for the active scale out of a table with one entry per scale. */
export function byScale<T>(table: Record<Scale, T>, scale: Scale = activeScale()): T {
  return table[scale];
}
