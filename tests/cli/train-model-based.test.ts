/**
 * `iapo train --preset paper --value model-based --horizon H --retrace-lambda L`: the run gets its own folder name,
 * records the model-based settings in its run.json as overrides of its preset, and trains to the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { loadTrainRun } from "../../lib/train";

const cli = path.join(projectRoot(), "dist", "lib", "cli", "main.js");

test("iapo train --value model-based records the horizon and λ and trains", { timeout: 5 * 60_000 }, () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cli-mb-"));
  const args = ["train", "--env", "Pendulum-v1", "--optimizer", "direct", "--preset", "paper", "--value", "model-based", "--horizon", "3", "--retrace-lambda", "0.5", "--steps", "80", "--scale", "smoke", "--runs-dir", runsDir, "--set", "evalEpisodes=1", "--set", "batchSize=16"];
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  const run = loadTrainRun(path.join(runsDir, "cli", "Pendulum-v1_direct_model-based_seed0"));
  assert.equal(run.config.agent.valueEstimate, "model-based");
  assert.equal(run.config.preset, "paper");
  for (const o of ["agent.valueEstimate", "agent.modelBased.horizon", "agent.modelBased.retraceLambda"]) assert.ok(run.config.overrides.includes(o), `overrides name ${o}`);
  assert.deepEqual({ h: run.config.agent.modelBased.horizon, l: run.config.agent.modelBased.retraceLambda }, { h: 3, l: 0.5 });
  assert.equal(run.status?.state, "finished");
  assert.ok(run.metrics.some((m) => Number.isFinite(m["train/model_pretrain_state_nll"])), "the model pre-trained");
  assert.ok(run.metrics.some((m) => Number.isFinite(m["train/model_state_nll"])), "the model learned alongside");
});
