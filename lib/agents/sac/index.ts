export { SacAgent } from "./agent";
export { buildPolicyOptimizer, type PolicyOptimizerFactory } from "./policy-factory";
export * as sacMaths from "./maths";
export { validateSacConfig, type SacConfig } from "./config";
export { temperatureLoss } from "./temperature";
export type { AgentSnapshot, AgentSpec, OptimizerState } from "./state";
