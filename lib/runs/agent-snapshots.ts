/**
 * Snapshots kept over training (`snapshots/step-<n>/` in a run folder): the agent alone (networks with their
 * targets, α), without the replay buffer or optimizer moments a checkpoint needs, so that every "over training"
 * analysis can be computed afterwards from any run. Unlike checkpoints they are all kept. Each is written to a
 * temporary folder and renamed into place, so a reader never sees a half-written one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { readSnapshot, replaceSnapshot } from "./snapshot-io";

const SNAPSHOTS = "snapshots";
const FOLDER = /^step-(\d{9,})$/;

/** The folder of the snapshot of `step` (whether or not it exists). */
export function snapshotFolder(runDir: string, step: number): string {
  return path.join(runDir, SNAPSHOTS, `step-${String(step).padStart(9, "0")}`);
}

function requireRun(runDir: string): void {
  if (!fs.existsSync(path.join(runDir, "run.json"))) throw new IapoError(`${runDir} is not a run folder (no run.json)`);
}

/** Writes the snapshot of `step` (replacing one already there). */
export function writeAgentSnapshot(runDir: string, step: number, state: unknown): void {
  if (!Number.isInteger(step) || step < 0) throw new IapoError(`snapshot step must be a non-negative integer, got ${step}`);
  replaceSnapshot(snapshotFolder(runDir, step), state);
}

/** The steps of the snapshots a run kept, ascending (empty when it kept none). */
export function listSnapshots(runDir: string): number[] {
  requireRun(runDir);
  const root = path.join(runDir, SNAPSHOTS);
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((name) => {
    const m = FOLDER.exec(name);
    return m ? [Number(m[1])] : [];
  }).sort((a, b) => a - b);
}

/**
 * The snapshot a run kept at `step`. A missing one fails naming the steps that exist; a damaged one fails with
 * CorruptFileError naming the file.
 */
export function loadAgentSnapshot<S = unknown>(runDir: string, step: number): S {
  const folder = snapshotFolder(runDir, step);
  if (!fs.existsSync(folder)) {
    const kept = listSnapshots(runDir);
    throw new IapoError(`no snapshot at step ${step} in ${path.join(runDir, SNAPSHOTS)} (kept: ${kept.length ? kept.join(", ") : "none"})`);
  }
  return readSnapshot<S>(folder);
}

/** Removes the snapshots after `step` (a resumed run writes them again from its checkpoint at `step`). */
export function removeSnapshotsAfter(runDir: string, step: number): void {
  for (const s of listSnapshots(runDir)) if (s > step) fs.rmSync(snapshotFolder(runDir, s), { recursive: true, force: true });
}
