/**
 * Snapshots kept over training and the analysis log of a run folder: listed and read back exactly, missing or
 * damaged ones named in the error, analysis rows found again by (estimator, settings, step), a line cut by a
 * kill dropped, and rows and snapshots after a checkpoint set aside when the run resumes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  AnalysisLog, collectProvenance, createRun, listSnapshots, loadAgentSnapshot, readAnalysisRows, resumeRun, writeAgentSnapshot,
} from "../../lib/runs";
import { CorruptFileError, IapoError } from "../../lib/core/errors";

const prov = collectProvenance();
const newRun = (): string => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "iapo-snap-")), "run");
  createRun(dir, { seed: 0 }, prov, "wasm").close();
  return dir;
};

test("snapshots are listed by step and read back bit-exactly", () => {
  const dir = newRun();
  assert.deepEqual(listSnapshots(dir), []);
  const w = new Float32Array([1.5, -0, 3e38]);
  writeAgentSnapshot(dir, 300, { step: 300, w });
  writeAgentSnapshot(dir, 20, { step: 20, w: new Float32Array([2]) });
  writeAgentSnapshot(dir, 1_000_000_000, { step: 1e9, w: new Float32Array(0) });
  // a snapshot being written (temporary folder) is not listed
  fs.mkdirSync(path.join(dir, "snapshots", ".step-000000400.tmp-1"));
  assert.deepEqual(listSnapshots(dir), [20, 300, 1_000_000_000]);
  const back = loadAgentSnapshot<{ step: number; w: Float32Array }>(dir, 300);
  assert.equal(back.step, 300);
  assert.deepEqual(new Uint8Array(back.w.buffer), new Uint8Array(w.buffer));
  // writing a step again replaces it
  writeAgentSnapshot(dir, 300, { step: 300, w: new Float32Array([9]) });
  assert.deepEqual([...loadAgentSnapshot<{ w: Float32Array }>(dir, 300).w], [9]);
});

test("a missing or damaged snapshot is a clear error naming it", () => {
  const dir = newRun();
  writeAgentSnapshot(dir, 100, { w: new Float32Array(4) });
  writeAgentSnapshot(dir, 200, { w: new Float32Array(4) });
  assert.throws(() => loadAgentSnapshot(dir, 150), (e: unknown) => e instanceof IapoError && /no snapshot at step 150 in .*snapshots \(kept: 100, 200\)/.test(e.message));
  fs.writeFileSync(path.join(dir, "snapshots", "step-000000200", "arrays.bin"), Buffer.alloc(3));
  assert.throws(() => loadAgentSnapshot(dir, 200), (e: unknown) => e instanceof CorruptFileError && /step-000000200\/arrays\.bin: 3 bytes, expected 16/.test(e.message));
  fs.writeFileSync(path.join(dir, "snapshots", "step-000000100", "state.json"), "{");
  assert.throws(() => loadAgentSnapshot(dir, 100), (e: unknown) => e instanceof CorruptFileError && /step-000000100\/state\.json/.test(e.message));
  assert.throws(() => listSnapshots(path.dirname(dir)), /is not a run folder/);
});

test("the analysis log knows which (estimator, settings, step) it holds; a cut last line is dropped on open", () => {
  const dir = newRun();
  const log = new AnalysisLog(dir);
  const settings = { states: 10, stride: 2 };
  log.append([{ estimator: "e", step: 100, settings, value: 1.5 }, { estimator: "e", step: 100, settings, value: NaN }]);
  log.append([{ estimator: "e", step: 200, settings, value: 2 }]);
  assert.ok(log.has("e", { stride: 2, states: 10 }, 100), "settings compare whatever their key order");
  assert.ok(!log.has("e", { states: 11, stride: 2 }, 100));
  assert.ok(!log.has("f", settings, 100));
  assert.ok(!log.has("e", settings, 300));
  log.close();
  assert.throws(() => log.append([{ estimator: "e", step: 300, settings }]), /closed/);
  fs.appendFileSync(path.join(dir, "analysis.jsonl"), '{"estimator":"e","step":300,"sett');
  const again = new AnalysisLog(dir);
  assert.ok(again.has("e", settings, 200));
  assert.ok(!again.has("e", settings, 300));
  again.append([{ estimator: "e", step: 300, settings, value: 3 }]);
  again.close();
  assert.deepEqual(readAnalysisRows(dir).map((r) => [r.step, r.value]), [[100, 1.5], [100, null], [200, 2], [300, 3]]);
  assert.throws(() => new AnalysisLog(path.dirname(dir)), /is not a run folder/);
});

test("resuming sets aside analysis rows and removes snapshots after the checkpoint", () => {
  const dir = newRun();
  const { writer } = resumeRun(dir, prov, "wasm");
  const log = new AnalysisLog(dir);
  for (const step of [10, 20, 30]) {
    writer.log({ step });
    writer.snapshot(step, { w: new Float32Array([step]) });
    log.append([{ estimator: "e", step, settings: {} }]);
    if (step === 20) writer.checkpoint(step, { step });
  }
  log.close();
  writer.close();
  resumeRun(dir, prov, "wasm").writer.close();
  assert.deepEqual(readAnalysisRows(dir).map((r) => r.step), [10, 20]);
  assert.equal(fs.readFileSync(path.join(dir, "analysis.after-checkpoint-1.jsonl"), "utf8"), '{"estimator":"e","step":30,"settings":{}}\n');
  assert.deepEqual(listSnapshots(dir), [10, 20]);
});
