export {
  metricCurve, finalValues, runIdentity, selectRuns, perIterationMeans, summarizeByGroup, byOptimizer,
  type CurveRow, type IterationRow, type GroupSummary, type GroupBy, type RunIdentity,
} from "./curves";
export type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
export { estimatorNames, makeEstimator, type EstimatorFactory } from "./registry";
export {
  flattenConfig, runRows, finalScores, filterRows, groupRows, iqm, quantile, stratifiedBootstrapCI, aggregateSeeds,
  type Cell, type TidyRow, type Where, type BootstrapOptions, type SeedAggregate, type AggregateOptions,
} from "./aggregate";
