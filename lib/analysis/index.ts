export {
  metricCurve, finalValues, runIdentity, selectRuns, perIterationMeans, summarizeByGroup, byOptimizer,
  type CurveRow, type IterationRow, type GroupSummary, type GroupBy, type RunIdentity,
} from "./curves";
export type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
export { estimatorNames, makeEstimator, type EstimatorFactory } from "./registry";
