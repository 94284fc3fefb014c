export { VALUE_ESTIMATES, MAX_HORIZON, validateValueEstimate, type ModelBasedConfig, type ValueEstimate } from "./config";
export * as modelBasedMaths from "./maths";
export { LearnedModel, gaussianNll, MODEL_LOG_STD_MAX, MODEL_LOG_STD_MIN, type ModelLoss, type ModelPrediction } from "./model";
export { modelBasedQ, plannedStates, retraceCombine, unroll, type Rollout, type RolloutParts, type UnrollParts } from "./rollout";
export { ModelBasedObjective, type ModelBasedObjectiveOptions } from "./objective";
export { RolloutPolicy, gaussianKlPerState } from "./rollout-policy";
export { ModelBasedValue } from "./value";
