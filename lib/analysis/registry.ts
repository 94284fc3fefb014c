/**
 * The estimators by name, as `iapo train --analyze NAME` and `iapo analyze --estimator NAME` select them.
 * Each factory binds an estimator's settings (the paper's defaults, overridden by `settings`) and checks them,
 * failing with a ConfigError that names an unknown or bad setting.
 */
import { UnknownNameError } from "../core/errors";
import type { Estimator } from "./estimator";
import { POLICY_CHANGE, policyChange } from "./policy-change";
import { AMORTIZATION_GAP, amortizationGapEstimator } from "./amortization-gap";
import { LANDSCAPE, landscapeEstimator } from "./landscape";
import { MULTIPLE_ESTIMATES, multipleEstimatesEstimator } from "./multiple-estimates";
import { OPTIMIZER_COMPARISON, optimizerComparisonEstimator } from "./optimizer-comparison";
import { PER_ITERATION, perIterationEstimator } from "./per-iteration";
import { TEST_TIME, testTimeEstimator } from "./test-time";
import { makeValueBiasEstimator } from "./value-bias";
import { MODEL_BASED_PLANNING, modelBasedPlanningEstimator } from "./model-based-planning";

/** Builds an estimator from user settings. */
export type EstimatorFactory = (settings: Record<string, unknown>) => Estimator;

const FACTORIES: Record<string, EstimatorFactory> = {
  [POLICY_CHANGE]: policyChange,
  [AMORTIZATION_GAP]: amortizationGapEstimator,
  [LANDSCAPE]: landscapeEstimator,
  [MULTIPLE_ESTIMATES]: multipleEstimatesEstimator,
  [OPTIMIZER_COMPARISON]: optimizerComparisonEstimator,
  [PER_ITERATION]: perIterationEstimator,
  [TEST_TIME]: testTimeEstimator,
  "value-bias": makeValueBiasEstimator,
  [MODEL_BASED_PLANNING]: modelBasedPlanningEstimator,
};

/** Short names accepted wherever a name is (`--analyze gap`); rows always carry the full name. */
const ALIASES: Record<string, string> = { gap: AMORTIZATION_GAP };

/** The registered estimator names, sorted. */
export function estimatorNames(): string[] {
  return Object.keys(FACTORIES).sort();
}

const fullName = (name: string): string => (Object.hasOwn(ALIASES, name) ? ALIASES[name] : name);

/** Whether `name` (or an alias) selects a registered estimator. */
export function isEstimatorName(name: string): boolean {
  return Object.hasOwn(FACTORIES, fullName(name));
}

/** The estimator `name` (or its alias) with `settings` applied; an unknown name fails listing the known ones. */
export function makeEstimator(name: string, settings: Record<string, unknown> = {}): Estimator {
  if (!isEstimatorName(name)) throw new UnknownNameError("estimator", name, estimatorNames());
  return FACTORIES[fullName(name)](settings);
}
