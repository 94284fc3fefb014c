/**
 * Estimator settings: each estimator declares its settings with the paper's defaults and a check, and
 * `resolveSettings` merges a user's overrides, refusing unknown names and bad values with a ConfigError that
 * names the estimator and the setting.
 */
import { ConfigError } from "../core/errors";
import type { AnalysisValue } from "./estimator";

/** One setting: its default and a check returning what is wrong with a value, or null when it is fine. */
export interface SettingSpec {
  default: AnalysisValue;
  check: (value: unknown) => string | null;
}

export type SettingSpecs = Record<string, SettingSpec>;

/** An integer in [min, max]. */
export function intSetting(value: number, min: number, max = Number.MAX_SAFE_INTEGER): SettingSpec {
  return { default: value, check: (v) => (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? null : `an integer in [${min}, ${max}]`) };
}

/** A finite number in (min, max] (`minOpen`) or [min, max]. */
export function numberSetting(value: number, min: number, max: number, minOpen = false): SettingSpec {
  return {
    default: value,
    check: (v) => (typeof v === "number" && Number.isFinite(v) && (minOpen ? v > min : v >= min) && v <= max ? null : `a number in ${minOpen ? "(" : "["}${min}, ${max}]`),
  };
}

/** One of the listed strings. */
export function choiceSetting<T extends string>(value: T, choices: readonly T[]): SettingSpec {
  return { default: value, check: (v) => ((choices as readonly unknown[]).includes(v) ? null : `one of ${choices.join(", ")}`) };
}

/** `spec`, or null meaning "take it from the agent" (e.g. its own sample count). */
export function orAgent(spec: SettingSpec, defaultNull = true): SettingSpec {
  return {
    default: defaultNull ? null : spec.default,
    check: (v) => (v === null ? null : spec.check(v) === null ? null : `${spec.check(v)} or null (the agent's own)`),
  };
}

/** The defaults of `specs` overridden by `user`; a ConfigError names an unknown or bad setting. */
export function resolveSettings(estimator: string, specs: SettingSpecs, user: Record<string, unknown>): Record<string, AnalysisValue> {
  if (user === null || typeof user !== "object") throw new ConfigError(`${estimator}: settings must be an object, got ${String(user)}`);
  const known = Object.keys(specs);
  for (const name of Object.keys(user)) {
    if (!Object.hasOwn(specs, name)) throw new ConfigError(`${estimator}: unknown setting "${name}"; known: ${known.join(", ")}`);
  }
  const out: Record<string, AnalysisValue> = {};
  for (const name of known) {
    const value = Object.hasOwn(user, name) ? user[name] : specs[name].default;
    const problem = specs[name].check(value);
    if (problem !== null) throw new ConfigError(`${estimator}: setting "${name}" must be ${problem}, got ${JSON.stringify(value)}`);
    out[name] = value as AnalysisValue;
  }
  return out;
}
