/**
 * Copies the logs of every run under a folder (run.json, metrics.jsonl, status.json, analysis.jsonl) into
 * another folder, without checkpoints, snapshots or replay buffers: a few hundred kilobytes that can be
 * committed or sent, and that `loadRuns` reads like the original runs. A manifest (`export.json`) names the
 * export and lists each run with the state and step it reached and the commits that trained it, so a reader of
 * the numbers knows what produced them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { writeFileAtomic } from "./atomic";
import { loadRuns, type RunState } from "./run-dir";
import { ANALYSIS_FILE } from "./analysis-log";

/** The files of a run folder that hold its logs; everything else (checkpoints, snapshots, locks) stays behind. */
export const LOG_FILES: readonly string[] = ["run.json", "metrics.jsonl", "status.json", ANALYSIS_FILE];
export const EXPORT_MANIFEST = "export.json";

export interface ExportedRun {
  /** The run folder, relative to the export's root. */
  path: string;
  state: RunState | null;
  /** Environment steps reached. */
  step: number;
  /** Git commits of the start and of every resume, in order (null outside git). */
  commits: (string | null)[];
}

export interface LogsExport {
  format: "iapo-logs-1";
  /** What the export holds, in the exporter's words (e.g. "reproduction, quick scale, 2 seeds"). */
  label: string;
  exportedAt: string;
  runs: ExportedRun[];
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Exports the logs of every run under `sourceRoot` to `destination` (created; an earlier export there is
 * replaced, any other existing folder is refused). Runs keep their paths relative to `sourceRoot`.
 */
export function exportRunLogs(sourceRoot: string, destination: string, label: string): LogsExport {
  const source = path.resolve(sourceRoot);
  const dest = path.resolve(destination);
  if (isInside(dest, source) || isInside(source, dest)) throw new IapoError(`the export folder ${dest} and the runs folder ${source} must not contain each other`);
  if (fs.existsSync(dest)) {
    if (!fs.existsSync(path.join(dest, EXPORT_MANIFEST))) throw new IapoError(`${dest} exists and is not an earlier export (no ${EXPORT_MANIFEST}); choose another folder`);
    fs.rmSync(dest, { recursive: true });
  }
  const runs = loadRuns(source);
  if (runs.length === 0) throw new IapoError(`no runs under ${source}`);
  const exported: ExportedRun[] = [];
  for (const run of runs) {
    const rel = path.relative(source, run.dir);
    const to = path.join(dest, rel);
    fs.mkdirSync(to, { recursive: true });
    for (const file of LOG_FILES) {
      const from = path.join(run.dir, file);
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(to, file));
    }
    exported.push({
      path: rel.split(path.sep).join("/"),
      state: run.status?.state ?? null,
      step: run.status?.step ?? 0,
      commits: run.provenance.map((p) => p.gitCommit),
    });
  }
  const manifest: LogsExport = { format: "iapo-logs-1", label, exportedAt: new Date().toISOString(), runs: exported };
  writeFileAtomic(path.join(dest, EXPORT_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/** Reads an export's manifest; a missing or damaged one is an error naming the file. */
export function readLogsExport(dir: string): LogsExport {
  const file = path.join(dir, EXPORT_MANIFEST);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new IapoError(`${file}: cannot read an export manifest (${(err as Error).message})`);
  }
  if ((parsed as LogsExport | null)?.format !== "iapo-logs-1" || !Array.isArray((parsed as LogsExport).runs)) {
    throw new IapoError(`${file}: not an iapo logs export`);
  }
  return parsed as LogsExport;
}
