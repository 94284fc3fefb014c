export {
  metricCurve, finalValues, runIdentity, selectRuns, perIterationMeans, summarizeByGroup, byOptimizer,
  type CurveRow, type IterationRow, type GroupSummary, type GroupBy, type RunIdentity,
} from "./curves";
export type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
export { estimatorNames, makeEstimator, type EstimatorFactory } from "./registry";
export {
  policyChange, gaussianKl, actingLambda, randomPolicyStates, estimatorSeed, POLICY_CHANGE, POLICY_CHANGE_DEFAULTS,
  type PolicyChangeSettings, type GaussianParams,
} from "./policy-change";
