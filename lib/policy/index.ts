export {
  LOG_STD_MIN,
  LOG_STD_MAX,
  SOFT_LOG_STD_MIN,
  SOFT_LOG_STD_MAX,
  LOG_STD_BOUNDS,
  initialPolicyParams,
  clipLogStd,
  boundLogStd,
  disposePolicyParams,
  policyParamsToArrays,
  type LogStdBounds,
  type PolicyParams,
} from "./params";
export { PESSIMISM_STDS, type PessimismStd } from "./maths";
export { sampleTanhGaussian, tanhGaussianLogProb, uniformPriorLogProb, klToUniformPriorSamples, deterministicAction } from "./tanh-gaussian";
export {
  pessimisticQ,
  VariationalObjective,
  disposeTerms,
  type ObjectiveTerms,
  type PolicyObjective,
  type QPair,
  type VariationalObjectiveOptions,
} from "./objective";
export {
  POLICY_OPTIMIZER_KINDS,
  disposeOptimization,
  keepTerms,
  traceMeans,
  type PolicyOptimizerKind,
  type FusedPolicyForm,
  type OptimizeOptions,
  type OptimizationStep,
  type PolicyOptimization,
  type PolicyOptimizer,
} from "./optimizer";
export { INPUT_NORMALIZATIONS, normalizeInput, normalizedSize, type InputNormalization } from "./input-normalization";
export { DirectAmortizedOptimizer, DEFAULT_DIRECT_CONFIG, type DirectOptimizerConfig } from "./direct";
export { IterativeAmortizedOptimizer, DEFAULT_ITERATIVE_CONFIG, gatedUpdate, objectiveAndGradient, type IterativeOptimizerConfig } from "./iterative";
export { GradientAscentOptimizer, DEFAULT_GRADIENT_ASCENT_CONFIG, type GradientAscentConfig } from "./gradient-ascent";
export { CemOptimizer, DEFAULT_CEM_CONFIG, type CemConfig } from "./cem";
export { QuadraticObjective } from "./quadratic-objective";
export { fitAmortizedOptimizer, type ObjectiveBatch, type FitOptions, type FitRow } from "./fit-amortized";
export { objectiveSurface, gradientField, lambdaPath, type SurfaceRow, type PlaneGrid } from "./objective-surface";
export * as policyMaths from "./maths";
