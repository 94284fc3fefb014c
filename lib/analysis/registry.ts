/**
 * The estimators by name, as `iapo train --analyze NAME` and `iapo analyze --estimator NAME` select them.
 * Each factory binds an estimator's settings (the paper's defaults, overridden by `settings`) and checks them,
 * failing with a ConfigError that names an unknown or bad setting.
 */
import { UnknownNameError } from "../core/errors";
import type { Estimator } from "./estimator";
import { makeValueBiasEstimator } from "./value-bias";

/** Builds an estimator from user settings. */
export type EstimatorFactory = (settings: Record<string, unknown>) => Estimator;

const FACTORIES: Record<string, EstimatorFactory> = {
  "value-bias": makeValueBiasEstimator,
};

/** The registered estimator names, sorted. */
export function estimatorNames(): string[] {
  return Object.keys(FACTORIES).sort();
}

/** The estimator `name` with `settings` applied; an unknown name fails listing the known ones. */
export function makeEstimator(name: string, settings: Record<string, unknown> = {}): Estimator {
  const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (!factory) throw new UnknownNameError("estimator", name, estimatorNames());
  return factory(settings);
}
