export {
  metricCurve, finalValues, runIdentity, selectRuns, perIterationMeans, summarizeByGroup, byOptimizer, byOptimizerAndValue, byConfigField, byConfigFields,
  type CurveRow, type IterationRow, type GroupSummary, type GroupBy, type RunIdentity,
} from "./curves";
export type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
export { estimatorNames, isEstimatorName, makeEstimator, type EstimatorFactory } from "./registry";
export {
  policyChange, gaussianKl, randomPolicyStates, POLICY_CHANGE, POLICY_CHANGE_DEFAULTS,
  type PolicyChangeSettings, type GaussianParams,
} from "./policy-change";
export { estimatorRng, agentObjective, amortizedLambda, drawFixedNoise, fixedNoiseObjective, type AgentObjectiveOptions } from "./agent-objective";
export { runEpisodes, collectOnPolicyStates, agentEvalPolicy, summarizeReturns, type BatchPolicy, type EpisodeResults, type EpisodeOptions, type OnPolicyStateOptions } from "./rollouts";
export { resolveSettings, type SettingSpec, type SettingSpecs } from "./settings";
export { AMORTIZATION_GAP, amortizationGap, amortizationGapEstimator, type AmortizationGapInput, type AmortizationGapResult } from "./amortization-gap";
export { LANDSCAPE, optimizationLandscape, landscapeEstimator, landscapeWithOptimizer, landscapeRows, tiledFixedNoise, type LandscapeInput, type LandscapeResult } from "./landscape";
export { MULTIPLE_ESTIMATES, multipleEstimates, multipleEstimatesEstimator, type MultipleEstimatesInput, type MultipleEstimatesResult } from "./multiple-estimates";
export {
  OPTIMIZER_COMPARISON, COMPARED_OPTIMIZERS, compareOptimizers, optimizerComparisonEstimator, optimizerComparisonRows, summarizeComparison,
  type ComparedOptimizer, type ComparisonInput, type ComparisonPoint, type ComparisonSummary, type ComparisonReference,
} from "./optimizer-comparison";
export { PER_ITERATION, J_IMPROVEMENT_PREFIX, iterationTrace, perIterationEstimator, improvementOverTraining, improvementByIteration, type IterationTrace, type ImprovementRow } from "./per-iteration";
export { TEST_TIME, testTimeEstimator, testTimePolicy, testTimeRefinement, testTimeObjective, type TestTimeMode, type TestTimeOptions, type TestTimeObjective } from "./test-time";
export { testTimeRows, testTimeSummaries, type TestTimeSummary } from "./test-time-rows";
export { loggedAnalysisRows, refinementGroup, type LoggedRow, type LoggedRowsOptions } from "./logged-rows";
export {
  makeValueBiasEstimator, measureValueBias, valueBiasFromParts, valueBiasRows, biasSummaries, agentQAtPairs, resolveValueBiasSettings,
  DEFAULT_VALUE_BIAS_SETTINGS, AUTO_WORKERS_MIN_STEPS, type ValueBiasSettings, type ValueBiasRun, type BiasSummary, type Workers,
} from "./value-bias";
export { drawPairs, loadOrDrawPairs, pairsFile, type StateActionPair, type StateActionPairs } from "./value-bias-pairs";
export { rolloutSoftReturns, type PolicySampler, type SoftReturns, type SoftReturnSettings } from "./soft-return-rollouts";
export { AgentPolicySampler, sampleTanhGaussianRow, type PolicyBeta } from "./rollouts-policy";
export type { PairReturns, ShareTiming } from "./rollouts-share";
export {
  flattenConfig, runRows, finalScores, filterRows, groupRows, iqm, quantile, stratifiedBootstrapCI, aggregateSeeds,
  type Cell, type TidyRow, type Where, type BootstrapOptions, type SeedAggregate, type AggregateOptions,
} from "./aggregate";
export { amortizationGapRows, gapSummaries, type GapRow, type GapSummary } from "./gap-over-training";
export { describeRuns, runsLabel, finalSummaryByTask, type RunsDescription, type ReferenceColumn, type TaskSummaryRow } from "./run-summary";
export { MODEL_BASED_PLANNING, modelBasedPlanningEstimator } from "./model-based-planning";
export { ZERO_SHOT_TRANSFER, zeroShotTransfer, zeroShotTransferSettings, type TransferPair } from "./zero-shot-transfer";
