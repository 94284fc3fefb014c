/**
 * `iapo train --analyze` and `iapo analyze` as a user runs them: the estimators' rows written live during
 * training are the rows `iapo analyze` computes afterwards from the kept snapshots, a second `iapo analyze`
 * finds everything done, schedule settings given with --set land in the schedule, and bad arguments are
 * refused with a clear message.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { listSnapshots, readAnalysisRows } from "../../lib/runs";
import { loadTrainRun } from "../../lib/train";

const cli = path.join(projectRoot(), "dist", "lib", "cli", "main.js");
const iapo = (args: string[]): ReturnType<typeof spawnSync> & { stderr: string } => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

test("rows of `iapo train --analyze` equal those `iapo analyze` computes afterwards from the snapshots", { timeout: 5 * 60_000 }, () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cli-"));
  const trained = iapo([
    "train", "--env", "Pendulum-v1", "--optimizer", "direct", "--steps", "300", "--scale", "smoke", "--runs-dir", runsDir,
    "--set", "policyHiddenSizes=[16,16]", "--set", "batchSize=16", "--set", "initialRandomSteps=60", "--snapshot-every", "150",
    "--analyze", "policy-change", "--analyze-every", "100",
  ]);
  assert.equal(trained.status, 0, trained.stderr);
  const runDir = path.join(runsDir, "cli", "Pendulum-v1_direct_seed0");
  const config = loadTrainRun(runDir).config;
  assert.equal(config.schedule.initialRandomSteps, 60);
  assert.equal(config.schedule.snapshotEvery, 150);
  assert.equal(config.agent.batchSize, 16);
  assert.deepEqual(listSnapshots(runDir), [100, 150, 200, 300]);
  const live = readAnalysisRows(runDir);
  assert.deepEqual(live.map((r) => [r.estimator, r.step, r.previous_step]), [["policy-change", 100, null], ["policy-change", 200, 100], ["policy-change", 300, 200]]);

  const copy = path.join(runsDir, "copy");
  fs.cpSync(runDir, copy, { recursive: true });
  fs.rmSync(path.join(copy, "analysis.jsonl"));
  fs.rmSync(path.join(copy, "analysis-inputs"), { recursive: true });
  const after = iapo(["analyze", copy, "--estimator", "policy-change", "--every", "100"]);
  assert.equal(after.status, 0, after.stderr);
  assert.match(after.stderr, /analysed 3 snapshots \(0 already done\); 3 rows in/);
  assert.deepEqual(readAnalysisRows(copy), live);
  const again = iapo(["analyze", copy, "--estimator", "policy-change", "--every", "100"]);
  assert.match(again.stderr, /analysed 0 snapshots \(3 already done\); 0 rows/);

  // other settings are other rows, next to the first ones
  const other = iapo(["analyze", copy, "--estimator", "policy-change", "--set", "states=5"]);
  assert.equal(other.status, 0, other.stderr);
  assert.deepEqual(readAnalysisRows(copy).filter((r) => r.settings.states === 5).map((r) => r.step), [100, 150, 200, 300]);
});

test("bad analyze arguments are refused with a clear message", () => {
  const err = (a: string[]): string => iapo(["analyze", ...a]).stderr;
  const notRun = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cli-"));
  assert.match(err([]), /RUN_DIR is required/);
  assert.match(err([notRun]), /--estimator is required/);
  assert.match(err([notRun, "--estimator", "gapp"]), /unknown estimator "gapp"; known: .*policy-change/);
  assert.match(err([notRun, "--estimator", "policy-change", "--set", "states=0"]), /policy-change setting states must be an integer >= 1, got 0/);
  assert.match(err([notRun, "--estimator", "policy-change", "--every", "0"]), /--every must be an integer >= 1/);
  assert.match(err([notRun, "--estimator", "policy-change"]), /is not a run folder/);
  assert.match(err([notRun, "other", "--estimator", "policy-change"]), /unknown option other/);
});
