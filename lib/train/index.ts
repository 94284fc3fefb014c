export { runLoop, initialLoop, evaluate, evalSeed, type Learner, type TransitionStore, type LoopSettings, type LoopCounters, type LoopCheckpoint, type LoopHooks, type LoopOutcome } from "./loop";
export { buildTrainConfig, validateTrainConfig, AMORTIZED_OPTIMIZERS, type TrainConfig, type TrainConfigRequest, type AgentOverrides, type AmortizedOptimizerKind } from "./config";
export { train, type TrainOptions, type TrainResult } from "./train";
export { trainSweep, sweepDir, type SweepSpec, type SweepOptions } from "./sweep";
export { loadTrainedAgent, agentPolicy, type TrainedAgent } from "./trained-agent";
