/**
 * A run folder (`data/runs/<name>/`):
 *   run.json        what was run: the full config, provenance (git commit, packages, machine) of the start and
 *                   of every resume, the tensor backend
 *   metrics.jsonl   the logged rows (see metrics.ts)
 *   status.json     running | finished | interrupted | failed, with the step reached and any error
 *   checkpoints/    ckpt-<step>/ snapshots and latest.json pointing at the newest complete one
 *   snapshots/      step-<n>/ agent-only snapshots kept over training (agent-snapshots.ts)
 *   analysis.jsonl  the analyses' tidy rows (analysis-log.ts)
 * Writes are atomic (temp file + rename), and a checkpoint becomes "latest" only once it is complete,
 * so a run killed at any moment can resume from the last good checkpoint.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CorruptFileError, IapoError } from "../core/errors";
import { removeSnapshotsAfter, writeAgentSnapshot } from "./agent-snapshots";
import { asideFile, setAsideAnalysisAfter } from "./analysis-log";
import { writeFileAtomic } from "./atomic";
import { MetricsWriter, readMetricsFile, type MetricRow } from "./metrics";
import type { Provenance } from "./provenance";
import { readSnapshot, writeSnapshot } from "./snapshot-io";

export type RunState = "running" | "finished" | "interrupted" | "failed";

export interface RunStatus {
  state: RunState;
  /** Environment steps completed when the status was written. */
  step: number;
  /** The error message, for failed runs. */
  error?: string;
  updatedAt: string;
}

export interface RunRecord<C = unknown> {
  format: "iapo-run-1";
  /** The folder name; unique within its parent. */
  id: string;
  config: C;
  /** Provenance of the start, then of each resume, in order. */
  provenance: Provenance[];
  /** The tensor backend each start/resume ran on (matches `provenance`). */
  backends: string[];
}

interface CheckpointPointer {
  step: number;
  folder: string;
  /** Rows metrics.jsonl held when the checkpoint was taken; later rows are redone on resume. */
  metricsRows: number;
}

const FILES = { record: "run.json", metrics: "metrics.jsonl", status: "status.json", checkpoints: "checkpoints" } as const;

function readJson<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new CorruptFileError(`${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CorruptFileError(`${file}: not valid JSON`);
  }
}

/** Writes to one run folder: metrics rows, checkpoints and status. Created by `createRun` or `resumeRun`. */
export class RunWriter {
  private metrics: MetricsWriter;

  constructor(readonly dir: string, existingRows: number) {
    this.metrics = new MetricsWriter(path.join(dir, FILES.metrics), existingRows);
  }

  /** Appends one metrics row (written through to the file at once). */
  log(row: MetricRow): void {
    this.metrics.write(row);
  }

  /** Rows written so far. */
  get metricsRows(): number {
    return this.metrics.rows;
  }

  /**
   * Saves `state` as the checkpoint at `step`. Metrics are synced first, and the pointer moves only after the
   * snapshot is completely on disk; the previous checkpoint is removed only after that.
   */
  checkpoint(step: number, state: unknown): void {
    this.metrics.sync();
    const root = path.join(this.dir, FILES.checkpoints);
    const folder = `ckpt-${String(step).padStart(9, "0")}`;
    const target = path.join(root, folder);
    fs.rmSync(target, { recursive: true, force: true });
    writeSnapshot(target, state);
    const previous = readPointer(this.dir);
    const pointer: CheckpointPointer = { step, folder, metricsRows: this.metrics.rows };
    writeFileAtomic(path.join(root, "latest.json"), JSON.stringify(pointer));
    if (previous && previous.folder !== folder) fs.rmSync(path.join(root, previous.folder), { recursive: true, force: true });
  }

  /** Keeps the agent-only snapshot of `step` (see agent-snapshots.ts). */
  snapshot(step: number, state: unknown): void {
    writeAgentSnapshot(this.dir, step, state);
  }

  setStatus(state: RunState, step: number, error?: string): void {
    const status: RunStatus = { state, step, ...(error ? { error } : {}), updatedAt: new Date().toISOString() };
    writeFileAtomic(path.join(this.dir, FILES.status), JSON.stringify(status, null, 2));
  }

  close(): void {
    this.metrics.close();
  }
}

function readPointer(dir: string): CheckpointPointer | null {
  const file = path.join(dir, FILES.checkpoints, "latest.json");
  if (!fs.existsSync(file)) return null;
  const p = readJson<CheckpointPointer>(file);
  if (typeof p.step !== "number" || typeof p.folder !== "string" || typeof p.metricsRows !== "number") {
    throw new CorruptFileError(`${file}: not a checkpoint pointer`);
  }
  return p;
}

/**
 * The newest complete checkpoint of a run, read without changing anything (unlike `resumeRun`), e.g. to load a
 * trained agent for analysis; null when the run has none yet.
 */
export function readLatestCheckpoint<S>(dir: string): { step: number; state: S } | null {
  if (!isRunDir(dir)) throw new IapoError(`${dir} is not a run folder (no ${FILES.record})`);
  const pointer = readPointer(dir);
  if (!pointer) return null;
  return { step: pointer.step, state: readSnapshot<S>(path.join(dir, FILES.checkpoints, pointer.folder)) };
}

/** True when `dir` holds a run (its run.json exists). */
export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, FILES.record));
}

/** Starts a new run in `dir`. Refuses to overwrite an existing run: resume it or pick another folder. */
export function createRun<C>(dir: string, config: C, provenance: Provenance, backend: string): RunWriter {
  if (isRunDir(dir)) throw new IapoError(`a run already exists in ${dir}; resume it (--resume) or choose another run name`);
  fs.mkdirSync(dir, { recursive: true });
  const record: RunRecord<C> = { format: "iapo-run-1", id: path.basename(dir), config, provenance: [provenance], backends: [backend] };
  writeFileAtomic(path.join(dir, FILES.record), JSON.stringify(record, null, 2));
  fs.writeFileSync(path.join(dir, FILES.metrics), "");
  const writer = new RunWriter(dir, 0);
  writer.setStatus("running", 0);
  return writer;
}

export interface Resumed<S> {
  writer: RunWriter;
  record: RunRecord;
  /** The newest complete checkpoint, or null when the run never reached one (it then restarts from step 0). */
  checkpoint: { step: number; state: S } | null;
}

/**
 * Reopens a run to continue it from its newest checkpoint. Metrics rows logged after that checkpoint will be
 * produced again by the resumed run, so they are moved (not deleted) to `metrics.after-checkpoint-<n>.jsonl`;
 * analysis rows of later steps likewise to `analysis.after-checkpoint-<n>.jsonl`, and later snapshots are
 * removed (the resumed run writes them again, identical).
 */
export function resumeRun<S>(dir: string, provenance: Provenance, backend: string): Resumed<S> {
  if (!isRunDir(dir)) throw new IapoError(`no run to resume in ${dir} (no ${FILES.record})`);
  const recordFile = path.join(dir, FILES.record);
  const record = readJson<RunRecord>(recordFile);
  if (record.format !== "iapo-run-1") throw new CorruptFileError(`${recordFile}: not an iapo run (format ${record.format})`);
  const pointer = readPointer(dir);
  const checkpoint = readLatestCheckpoint<S>(dir);
  const keepRows = pointer ? pointer.metricsRows : 0;

  const metricsFile = path.join(dir, FILES.metrics);
  const text = fs.existsSync(metricsFile) ? fs.readFileSync(metricsFile, "utf8") : "";
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length < keepRows) {
    throw new CorruptFileError(`${metricsFile}: ${lines.length} rows but the checkpoint at step ${pointer?.step} saw ${keepRows}`);
  }
  if (lines.length > keepRows || !text.endsWith("\n") && text.length > 0) {
    fs.writeFileSync(asideFile(dir, "metrics"), lines.slice(keepRows).join("\n") + "\n");
    writeFileAtomic(metricsFile, lines.slice(0, keepRows).map((l) => l + "\n").join(""));
  }
  setAsideAnalysisAfter(dir, checkpoint?.step ?? 0);
  removeSnapshotsAfter(dir, checkpoint?.step ?? 0);
  record.provenance.push(provenance);
  record.backends.push(backend);
  writeFileAtomic(recordFile, JSON.stringify(record, null, 2));
  const writer = new RunWriter(dir, keepRows);
  writer.setStatus("running", checkpoint?.step ?? 0);
  return { writer, record, checkpoint };
}

/** A run loaded for analysis. */
export interface Run<C = unknown> {
  dir: string;
  id: string;
  config: C;
  provenance: Provenance[];
  backends: string[];
  status: RunStatus | null;
  metrics: MetricRow[];
  /** True when the metrics file ended in a partial line (the run was killed mid-write). */
  truncatedTail: boolean;
}

/** Loads a run folder: config, status and all metrics rows. */
export function loadRun<C = unknown>(dir: string): Run<C> {
  const recordFile = path.join(dir, FILES.record);
  if (!fs.existsSync(recordFile)) throw new IapoError(`${dir} is not a run folder (no ${FILES.record})`);
  const record = readJson<RunRecord<C>>(recordFile);
  if (record.format !== "iapo-run-1") throw new CorruptFileError(`${recordFile}: not an iapo run (format ${record.format})`);
  const statusFile = path.join(dir, FILES.status);
  const status = fs.existsSync(statusFile) ? readJson<RunStatus>(statusFile) : null;
  const { rows, truncatedTail } = readMetricsFile(path.join(dir, FILES.metrics));
  return { dir, id: record.id, config: record.config, provenance: record.provenance, backends: record.backends, status, metrics: rows, truncatedTail };
}

/** Every run folder under `root` (searched recursively), loaded, in path order. */
export function loadRuns<C = unknown>(root: string): Run<C>[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (isRunDir(dir)) {
      found.push(dir);
      return;
    }
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== FILES.checkpoints) walk(path.join(dir, entry.name));
    }
  };
  if (!fs.existsSync(root)) throw new IapoError(`no runs folder at ${root}`);
  walk(root);
  return found.sort().map((d) => loadRun<C>(d));
}
