export {
  metricCurve, finalValues, runIdentity, selectRuns, perIterationMeans, summarizeByGroup, byOptimizer,
  type CurveRow, type IterationRow, type GroupSummary, type GroupBy, type RunIdentity,
} from "./curves";
