/**
 * `iapo bench --save` (lib/cli/bench/save.ts): a run kept as a record with date, commit, machine, steal and every
 * figure, named so records sort by time, never overwritten, and every committed record in bench/results readable.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { benchRecordFileName, benchResultsDir, makeBenchRecord, readBenchRecord, saveBenchRecord, type BenchRecord } from "../../lib/cli/bench/save";
import type { BenchFigure } from "../../lib/cli/bench/types";

const figures: BenchFigure[] = [
  { suite: "backend", name: "direct SAC update", variant: "wasm-native", value: 5.92, unit: "ms/update", note: "steal 1%" },
  { suite: "training", name: "Hopper-v2 direct, steps incl. updates", variant: "wasm-native", value: 129, unit: "steps/s" },
];

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "iapo-bench-save-"));
}

test("a record names its start time to the second and the short commit; a day-only date keeps just the day", () => {
  assert.equal(benchRecordFileName({ date: "2026-11-22T07:23:05.123Z", commit: "b4ef8dd1234567890" }), "2026-11-22T07-23-05Z_b4ef8dd.json");
  assert.equal(benchRecordFileName({ date: "2026-11-22T07:23:05Z", commit: "b4ef8dd1234567890-dirty" }), "2026-11-22T07-23-05Z_b4ef8dd-dirty.json");
  assert.equal(benchRecordFileName({ date: "2026-11-21", commit: null }), "2026-11-21_nocommit.json");
  assert.throws(() => benchRecordFileName({ date: "yesterday", commit: null }), /no valid start time/);
});

test("makeBenchRecord keeps the run's times, arguments, steal and figures, and this machine's provenance", () => {
  const started = new Date("2026-12-01T10:00:00Z");
  const ended = new Date("2026-12-01T10:09:30Z");
  const r = makeBenchRecord(["--only", "backend"], started, ended, figures, 7.5);
  assert.equal(r.date, "2026-12-01T10:00:00.000Z");
  assert.equal(r.finished, "2026-12-01T10:09:30.000Z");
  assert.equal(r.seconds, 570);
  assert.deepEqual(r.args, ["--only", "backend"]);
  assert.equal(r.stealPercent, 7.5);
  assert.deepEqual(r.figures, figures);
  assert.equal(r.machine.cpus, os.cpus().length);
  assert.equal(r.machine.cpuModel, os.cpus()[0]?.model ?? "unknown");
  assert.match(r.commit ?? "", /^[0-9a-f]{40}(-dirty)?$/); // tests run inside the project's git checkout
  assert.deepEqual(r.absent, []);
  const noSteal = makeBenchRecord([], started, ended, figures, null);
  assert.deepEqual(noSteal.absent, ["stealPercent"]);
});

test("saveBenchRecord writes a record that reads back equal, and never overwrites one", () => {
  const dir = tmpDir();
  try {
    const r = makeBenchRecord([], new Date("2026-12-01T10:00:00Z"), new Date("2026-12-01T10:01:00Z"), figures, 3);
    const first = saveBenchRecord(r, dir);
    const second = saveBenchRecord(r, dir);
    assert.equal(path.basename(first), benchRecordFileName(r));
    assert.equal(path.basename(second), benchRecordFileName(r).replace(/\.json$/, "-2.json"));
    assert.deepEqual(readBenchRecord(first), r);
    assert.deepEqual(readBenchRecord(second), r);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a malformed record fails naming the file and what is wrong", () => {
  const dir = tmpDir();
  const good = makeBenchRecord([], new Date("2026-12-01T10:00:00Z"), new Date("2026-12-01T10:01:00Z"), figures, 3);
  const write = (r: unknown): string => {
    const file = path.join(dir, "r.json");
    fs.writeFileSync(file, typeof r === "string" ? r : JSON.stringify(r));
    return file;
  };
  try {
    assert.throws(() => readBenchRecord(write("{not json")), /cannot read bench record .*r\.json/);
    assert.throws(() => readBenchRecord(write({ ...good, schema: 2 })), /schema 2, expected 1/);
    assert.throws(() => readBenchRecord(write({ ...good, date: "soon" })), /date is not an ISO time/);
    assert.throws(() => readBenchRecord(write({ ...good, figures: [{ ...figures[0], value: "fast" }] })), /figure 0 needs/);
    const unlisted: BenchRecord = { ...good, commit: null };
    assert.throws(() => readBenchRecord(write(unlisted)), /commit is null but not listed in absent/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("every committed record in bench/results reads, is named for its date and commit, and lists what it lacks", () => {
  const files = fs.readdirSync(benchResultsDir()).filter((f) => f.endsWith(".json"));
  assert.ok(files.length > 0, "bench/results holds the recorded runs");
  for (const f of files) {
    const r = readBenchRecord(path.join(benchResultsDir(), f));
    assert.equal(f.replace(/-\d+\.json$/, ".json"), benchRecordFileName(r), f);
    assert.ok(r.figures.length > 0, `${f} has figures`);
  }
});
