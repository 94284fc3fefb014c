import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  collectProvenance, createRun, loadRun, loadRuns, readMetricsFile, readSnapshot, resumeRun, writeSnapshot,
} from "../../lib/runs";
import { CorruptFileError } from "../../lib/core/errors";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "iapo-runs-"));
const prov = collectProvenance();

test("snapshots round-trip nested typed arrays bit-exactly, including NaN, -0 and infinities", () => {
  const dir = tmp();
  const f32 = new Float32Array([1.5, -0, NaN, 3.4028234663852886e38]);
  const f64 = new Float64Array([Math.PI, -Infinity, 5e-324]);
  const value = { a: { w: f32, list: [f64, new Uint32Array([0xffffffff, 7])] }, n: 3, s: "x", inf: Infinity, nothing: null };
  writeSnapshot(dir, value);
  const back = readSnapshot<typeof value>(dir);
  assert.ok(back.a.w instanceof Float32Array);
  assert.deepEqual(new Uint8Array(back.a.w.buffer), new Uint8Array(f32.buffer));
  assert.ok(back.a.list[0] instanceof Float64Array);
  assert.deepEqual(new Uint8Array((back.a.list[0] as Float64Array).buffer), new Uint8Array(f64.buffer));
  assert.deepEqual([...(back.a.list[1] as Uint32Array)], [0xffffffff, 7]);
  assert.equal(back.n, 3);
  assert.equal(back.s, "x");
  assert.equal(back.inf, Infinity);
  assert.equal(back.nothing, null);
});

test("a damaged snapshot fails with CorruptFileError naming the file", () => {
  const dir = tmp();
  writeSnapshot(dir, { w: new Float32Array(10) });
  fs.writeFileSync(path.join(dir, "arrays.bin"), Buffer.alloc(12));
  assert.throws(() => readSnapshot(dir), (e: unknown) => e instanceof CorruptFileError && /arrays\.bin: 12 bytes, expected 40/.test(e.message));
  fs.writeFileSync(path.join(dir, "state.json"), "{not json");
  assert.throws(() => readSnapshot(dir), (e: unknown) => e instanceof CorruptFileError && /state\.json/.test(e.message));
});

test("a metrics file cut mid-line loses only that line; a damaged middle line is an error with its line number", () => {
  const dir = tmp();
  const file = path.join(dir, "metrics.jsonl");
  fs.writeFileSync(file, '{"step":1,"a":1}\n{"step":2,"a":2}\n{"step":3,"a"');
  const r = readMetricsFile(file);
  assert.deepEqual(r.rows.map((x) => x.step), [1, 2]);
  assert.equal(r.truncatedTail, true);
  fs.writeFileSync(file, '{"step":1}\ngarbage\n{"step":3}\n');
  assert.throws(() => readMetricsFile(file), /metrics\.jsonl: line 2 is not valid JSON/);
  fs.writeFileSync(file, '{"step":1}\n{"nostep":2}\n');
  assert.throws(() => readMetricsFile(file), /line 2 has no numeric "step"/);
});

test("a run records config, metrics, status and provenance, and refuses to be created twice", () => {
  const root = tmp();
  const dir = path.join(root, "exp", "run-a");
  const w = createRun(dir, { env: "Pendulum-v0", seed: 3 }, prov, "wasm");
  w.log({ step: 10, "train/loss": 1.5 });
  w.log({ step: 20, "train/loss": NaN });
  w.setStatus("finished", 20);
  w.close();
  const run = loadRun<{ env: string; seed: number }>(dir);
  assert.equal(run.id, "run-a");
  assert.equal(run.config.seed, 3);
  assert.deepEqual(run.metrics, [{ step: 10, "train/loss": 1.5 }, { step: 20, "train/loss": null }]);
  assert.equal(run.status?.state, "finished");
  assert.equal(run.backends[0], "wasm");
  assert.equal(run.provenance[0].node, process.version);
  assert.throws(() => createRun(dir, {}, prov, "wasm"), /a run already exists in .*run-a; resume it/);
  assert.deepEqual(loadRuns(root).map((r) => r.id), ["run-a"]);
});

test("resume continues from the newest complete checkpoint and sets aside (not deletes) rows logged after it", () => {
  const dir = path.join(tmp(), "r");
  const w = createRun(dir, { seed: 0 }, prov, "wasm");
  w.log({ step: 1 });
  w.checkpoint(1, { counter: 1, weights: new Float32Array([1, 2]) });
  w.log({ step: 2 });
  w.checkpoint(2, { counter: 2, weights: new Float32Array([3, 4]) });
  w.log({ step: 3 });
  w.log({ step: 4 });
  w.close();
  // a crash while writing a later checkpoint leaves a folder without moving the pointer
  fs.mkdirSync(path.join(dir, "checkpoints", "ckpt-000000004"));
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8") + '{"step":5');

  const { writer, checkpoint, record } = resumeRun<{ counter: number; weights: Float32Array }>(dir, prov, "wasm");
  assert.equal(checkpoint?.step, 2);
  assert.equal(checkpoint?.state.counter, 2);
  assert.deepEqual([...checkpoint!.state.weights], [3, 4]);
  assert.equal(record.provenance.length, 2);
  assert.deepEqual(readMetricsFile(path.join(dir, "metrics.jsonl")).rows.map((r) => r.step), [1, 2]);
  const aside = fs.readFileSync(path.join(dir, "metrics.after-checkpoint-1.jsonl"), "utf8");
  assert.equal(aside, '{"step":3}\n{"step":4}\n{"step":5\n');
  assert.deepEqual(fs.readdirSync(path.join(dir, "checkpoints")).sort(), ["ckpt-000000002", "ckpt-000000004", "latest.json"]);
  writer.log({ step: 3 });
  writer.close();
  assert.deepEqual(loadRun(dir).metrics.map((r) => r.step), [1, 2, 3]);
});

test("resuming a folder that is not a run, or a corrupt run record, is a clear error", () => {
  const dir = tmp();
  assert.throws(() => resumeRun(dir, prov, "wasm"), /no run to resume in/);
  fs.writeFileSync(path.join(dir, "run.json"), "{");
  assert.throws(() => resumeRun(dir, prov, "wasm"), (e: unknown) => e instanceof CorruptFileError && /run\.json: not valid JSON/.test(e.message));
});
