export { SacAgent, buildPolicyOptimizer } from "./agent";
export { defaultSacConfig, validateSacConfig, paperBetaTrain, SAC_SCALE_PRESETS, type SacConfig } from "./config";
export { temperatureLoss } from "./temperature";
export type { AgentSnapshot, AgentSpec, OptimizerState } from "./state";
