/**
 * `iapo export-logs RUNS_DIR DEST --label TEXT`: copies every run's logs (config, metrics, status, analysis rows;
 * no checkpoints, snapshots or replay) into DEST with a manifest, small enough to commit under data/.
 */
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { exportRunLogs } from "../runs/export-logs";
import { eachArgument } from "./args";

export const EXPORT_LOGS_USAGE = `iapo export-logs RUNS_DIR DEST --label TEXT
      copies the logs of every run under RUNS_DIR (run.json, metrics, status, analysis rows; no checkpoints or
      snapshots) to DEST with an export.json naming them (label, state, step and commits of each run)`;

export function runExportLogsCommand(argv: string[]): number {
  const folders: string[] = [];
  let label: string | undefined;
  eachArgument(argv, (arg, value) => {
    if (arg === "--label") label = value();
    else if (arg.startsWith("--") || folders.length === 2) throw new IapoError(`unknown option ${arg} for "iapo export-logs"\nusage: ${EXPORT_LOGS_USAGE}`);
    else folders.push(path.resolve(arg));
  });
  if (folders.length !== 2) throw new IapoError(`RUNS_DIR and DEST are required\nusage: ${EXPORT_LOGS_USAGE}`);
  if (label === undefined || label.trim() === "") throw new IapoError(`--label is required: say what the runs are (scale, steps, seeds)\nusage: ${EXPORT_LOGS_USAGE}`);
  const manifest = exportRunLogs(folders[0], folders[1], label);
  console.log(`exported the logs of ${manifest.runs.length} runs to ${folders[1]}`);
  return 0;
}
