export { writeFileAtomic } from "./atomic";
export { writeSnapshot, readSnapshot, replaceSnapshot } from "./snapshot-io";
export { MetricsWriter, readMetricsFile, type MetricRow, type ReadMetricsResult } from "./metrics";
export { collectProvenance, type Provenance } from "./provenance";
export {
  RunWriter, createRun, resumeRun, loadRun, loadRuns, isRunDir, readLatestCheckpoint,
  type Run, type RunRecord, type RunState, type RunStatus, type Resumed,
} from "./run-dir";
export { listSnapshots, loadAgentSnapshot, writeAgentSnapshot } from "./agent-snapshots";
export { AnalysisLog, readAnalysisRows, canonicalJson, ANALYSIS_FILE, type AnalysisLogRow } from "./analysis-log";
export { acquireRunLock, readRunLock, staleAfterMs, RunLockedError, RUN_LOCK_FILE, RUN_LOCK_STALE_ENV, type RunLock, type RunLockInfo, type RunLockView } from "./run-lock";
export { exportRunLogs, readLogsExport, LOG_FILES, EXPORT_MANIFEST, type LogsExport, type ExportedRun } from "./export-logs";
