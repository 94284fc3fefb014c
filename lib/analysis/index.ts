export {
  metricCurve, finalValues, runIdentity, selectRuns, perIterationMeans, summarizeByGroup, byOptimizer,
  type CurveRow, type IterationRow, type GroupSummary, type GroupBy, type RunIdentity,
} from "./curves";
export type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
export { estimatorNames, makeEstimator, type EstimatorFactory } from "./registry";
export {
  makeValueBiasEstimator, measureValueBias, valueBiasFromParts, valueBiasRows, biasSummaries, agentQAtPairs, resolveValueBiasSettings,
  DEFAULT_VALUE_BIAS_SETTINGS, AUTO_WORKERS_MIN_STEPS, type ValueBiasSettings, type ValueBiasRun, type BiasSummary, type Workers,
} from "./value-bias";
export { drawPairs, loadOrDrawPairs, pairsFile, type StateActionPair, type StateActionPairs } from "./value-bias-pairs";
export { rolloutSoftReturns, deriveSeed, type PolicySampler, type SoftReturns, type SoftReturnSettings } from "./rollouts";
export { AgentPolicySampler, sampleTanhGaussianRow, type PolicyBeta } from "./rollouts-policy";
export type { PairReturns, ShareTiming } from "./rollouts-share";
