export { SacAgent } from "./agent";
export { buildPolicyOptimizer, type PolicyOptimizerFactory } from "./policy-factory";
export * as sacMaths from "./maths";
export { defaultSacConfig, validateSacConfig, paperBetaTrain, SAC_SCALE_PRESETS, type SacConfig } from "./config";
export { temperatureLoss } from "./temperature";
export type { AgentSnapshot, AgentSpec, OptimizerState } from "./state";
