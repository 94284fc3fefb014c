export { writeFileAtomic } from "./atomic";
export { writeSnapshot, readSnapshot } from "./snapshot-io";
export { MetricsWriter, readMetricsFile, type MetricRow, type ReadMetricsResult } from "./metrics";
export { collectProvenance, type Provenance } from "./provenance";
export {
  RunWriter, createRun, resumeRun, loadRun, loadRuns, isRunDir, readLatestCheckpoint,
  type Run, type RunRecord, type RunState, type RunStatus, type Resumed,
} from "./run-dir";
export { acquireRunLock, readRunLock, staleAfterMs, RunLockedError, RUN_LOCK_FILE, RUN_LOCK_STALE_ENV, type RunLock, type RunLockInfo, type RunLockView } from "./run-lock";
