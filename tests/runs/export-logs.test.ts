import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { collectProvenance, createRun, exportRunLogs, loadRuns, readLogsExport, writeSnapshot } from "../../lib/runs";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "iapo-export-"));

/** Two runs under nested folders, one finished with a checkpoint, snapshot and analysis rows, one interrupted. */
function twoRuns(): string {
  const root = tmp();
  const a = createRun(path.join(root, "sweep", "a"), { env: "Pendulum-v1", seed: 0 }, collectProvenance(), "test");
  a.log({ step: 10, "eval/return_mean": -500 });
  a.log({ step: 20, "eval/return_mean": -300 });
  a.setStatus("finished", 20);
  writeSnapshot(path.join(root, "sweep", "a", "checkpoints", "ckpt-20"), { w: new Float32Array(1000) });
  fs.mkdirSync(path.join(root, "sweep", "a", "snapshots", "step-20"), { recursive: true });
  fs.writeFileSync(path.join(root, "sweep", "a", "analysis.jsonl"), '{"step":20,"estimator":"amortization-gap","value":1.5}\n');
  const b = createRun(path.join(root, "sweep", "b"), { env: "Pendulum-v1", seed: 1 }, collectProvenance(), "test");
  b.log({ step: 10, "eval/return_mean": -700 });
  b.setStatus("interrupted", 10);
  return root;
}

test("an export holds every run's logs and no checkpoints or snapshots, and loads like the runs", () => {
  const root = twoRuns();
  const dest = path.join(tmp(), "export");
  const manifest = exportRunLogs(root, dest, "test export");
  assert.deepEqual(manifest.runs.map((r) => [r.path, r.state, r.step]), [["sweep/a", "finished", 20], ["sweep/b", "interrupted", 10]]);
  assert.deepEqual(fs.readdirSync(path.join(dest, "sweep", "a")).sort(), ["analysis.jsonl", "metrics.jsonl", "run.json", "status.json"]);
  assert.deepEqual(readLogsExport(dest), manifest);
  const original = loadRuns(root).map((r) => [r.id, r.config, r.metrics]);
  assert.deepEqual(loadRuns(dest).map((r) => [r.id, r.config, r.metrics]), original);
  // a second export replaces the first
  exportRunLogs(root, dest, "again");
  assert.equal(readLogsExport(dest).label, "again");
});

test("exports refuse folders they would damage and name bad manifests", () => {
  const root = twoRuns();
  const other = tmp();
  fs.writeFileSync(path.join(other, "keep.txt"), "user file");
  assert.throws(() => exportRunLogs(root, other, "x"), /exists and is not an earlier export/);
  assert.equal(fs.readFileSync(path.join(other, "keep.txt"), "utf8"), "user file");
  assert.throws(() => exportRunLogs(root, path.join(root, "inside"), "x"), /must not contain each other/);
  assert.throws(() => exportRunLogs(tmp(), path.join(tmp(), "e"), "x"), /no runs under/);
  fs.writeFileSync(path.join(other, "export.json"), "{broken");
  assert.throws(() => readLogsExport(other), /export\.json: cannot read an export manifest/);
});

test("iapo export-logs needs both folders and a label", async () => {
  const { runExportLogsCommand } = await import("../../lib/cli/export-logs");
  const root = twoRuns();
  assert.throws(() => runExportLogsCommand([root]), /RUNS_DIR and DEST are required/);
  assert.throws(() => runExportLogsCommand([root, path.join(tmp(), "e")]), /--label is required/);
  const dest = path.join(tmp(), "e");
  assert.equal(runExportLogsCommand([root, dest, "--label", "two test runs"]), 0);
  assert.equal(readLogsExport(dest).runs.length, 2);
});
