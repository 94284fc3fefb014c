export { runLoop, initialLoop, evaluate, evalSeed, type Learner, type TransitionStore, type LoopSettings, type LoopCounters, type LoopCheckpoint, type LoopHooks, type LoopOutcome } from "./loop";
export {
  buildTrainConfig, validateTrainConfig, migrateTrainConfig, settingsDifferingFrom, AMORTIZED_OPTIMIZERS,
  type TrainConfig, type TrainConfigRequest, type AgentOverrides, type ScheduleOverrides, type AmortizedOptimizerKind,
} from "./config";
export { validateSchedule, isScheduleField } from "./schedule";
export { agentWeights, agentFromWeights, loadSnapshotAgent, type AgentWeights } from "./agent-snapshot";
export { analyzeRun, resolveEstimators, type AnalyzeOptions, type AnalyzeResult } from "./analyses";
export { train, type TrainOptions, type TrainResult } from "./train";
export { trainSweep, sweepDir, type SweepSpec, type SweepOptions } from "./sweep";
export { loadTrainedAgent, loadTrainRun, agentPolicy, type TrainedAgent } from "./trained-agent";
export { transferBetweenRuns, logTransferBetweenRuns, type TransferOptions, type TransferRow, type TransferLogResult } from "./transfer";
export { measureTrainingSpeed, type TrainingSpeed, type SpeedProbeOptions } from "./speed";
export { runsWithTable5Architecture } from "./table5-runs";
