/**
 * `analysis.jsonl` in a run folder: the tidy rows of the analyses (one JSON object per line, each with the
 * estimator's name, the training step and the estimator's settings), written by one writer whether the analyses
 * ran on the live agent during training or on kept snapshots afterwards. The writer knows which (estimator,
 * settings, step) are already present, so an interrupted analysis resumes where it stopped.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { writeFileAtomic } from "./atomic";
import { readMetricsFile } from "./metrics";

export const ANALYSIS_FILE = "analysis.jsonl";

/** The fields every analysis row has (the rest is the estimator's). */
export interface AnalysisLogRow {
  estimator: string;
  step: number;
  settings: Record<string, unknown>;
  [field: string]: unknown;
}

/** JSON with object keys sorted at every level: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function rowKey(estimator: string, settings: Record<string, unknown>, step: number): string {
  return `${estimator}\u0000${canonicalJson(settings)}\u0000${step}`;
}

/** The rows of a run's analysis.jsonl, in the order written (a line cut short by a kill is left out). */
export function readAnalysisRows(runDir: string): AnalysisLogRow[] {
  return readMetricsFile(path.join(runDir, ANALYSIS_FILE)).rows as unknown as AnalysisLogRow[];
}

/** Rewrites `file` with only its complete lines that `keep` accepts; returns the other lines (cut line included). */
function splitLines(file: string, keep: (row: AnalysisLogRow) => boolean): string[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  const { rows, truncatedTail } = readMetricsFile(file);
  const lines = text.split("\n").filter((l) => l !== "");
  const kept: string[] = [];
  const dropped: string[] = [];
  rows.forEach((row, i) => (keep(row as unknown as AnalysisLogRow) ? kept : dropped).push(lines[i]));
  if (truncatedTail) dropped.push(lines[lines.length - 1]);
  if (dropped.length > 0) writeFileAtomic(file, kept.map((l) => l + "\n").join(""));
  return dropped;
}

/** `<stem>.after-checkpoint-<n>.jsonl` with the first n not yet used: where rows a resumed run redoes are kept. */
export function asideFile(runDir: string, stem: string): string {
  let n = 1;
  while (fs.existsSync(path.join(runDir, `${stem}.after-checkpoint-${n}.jsonl`))) n++;
  return path.join(runDir, `${stem}.after-checkpoint-${n}.jsonl`);
}

/**
 * Moves the rows of steps after `step` to `analysis.after-checkpoint-<n>.jsonl` (kept, not deleted): a run
 * resumed from its checkpoint at `step` analyses those steps again.
 */
export function setAsideAnalysisAfter(runDir: string, step: number): void {
  const dropped = splitLines(path.join(runDir, ANALYSIS_FILE), (row) => row.step <= step);
  if (dropped.length === 0) return;
  fs.writeFileSync(asideFile(runDir, "analysis"), dropped.join("\n") + "\n");
}

/** Appends analysis rows to a run folder; rows are on disk (fsynced) when `append` returns. */
export class AnalysisLog {
  private readonly done = new Set<string>();
  private fd: number | null;
  readonly file: string;

  /** Opens the run's analysis.jsonl; a last line cut short by a kill is dropped (its analysis runs again). */
  constructor(readonly runDir: string) {
    if (!fs.existsSync(path.join(runDir, "run.json"))) throw new IapoError(`${runDir} is not a run folder (no run.json)`);
    this.file = path.join(runDir, ANALYSIS_FILE);
    splitLines(this.file, () => true);
    for (const row of readAnalysisRows(runDir)) this.done.add(rowKey(row.estimator, row.settings, row.step));
    this.fd = fs.openSync(this.file, "a");
  }

  /** True when rows of `estimator` with exactly these settings were written for `step`. */
  has(estimator: string, settings: Record<string, unknown>, step: number): boolean {
    return this.done.has(rowKey(estimator, settings, step));
  }

  /** Writes the rows of one estimator at one step (all of them in one write, then fsync). */
  append(rows: readonly AnalysisLogRow[]): void {
    if (this.fd === null) throw new IapoError(`${this.file}: the analysis log is closed`);
    if (rows.length === 0) return;
    fs.writeSync(this.fd, rows.map((r) => JSON.stringify(r) + "\n").join(""));
    fs.fsyncSync(this.fd);
    for (const r of rows) this.done.add(rowKey(r.estimator, r.settings, r.step));
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
