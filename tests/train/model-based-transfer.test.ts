/**
 * Fig. 8's analyses on small Pendulum runs: zero-shot transfer between a model-free and a model-based iterative
 * run completes with one row per (optimizer, values) pair at every common snapshot, in the library and through
 * `iapo transfer` (which logs the rows where `loggedAnalysisRows` reads them, once), the planning estimator
 * records planned trajectories and J across iterations on a model-based run, each chart builder draws its rows,
 * and misuse (a direct optimizer, two runs of one value estimate or of two tasks, a step not kept, a model-free
 * agent) fails with a clear error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { SacAgent } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { makeEstimator, zeroShotTransfer, byOptimizerAndValue, loggedAnalysisRows, metricCurve, ZERO_SHOT_TRANSFER } from "../../lib/analysis";
import { projectRoot } from "../../lib/core/paths";
import { readAnalysisRows } from "../../lib/runs/analysis-log";
import { loadRun } from "../../lib/runs";
import { analyzeRun, logTransferBetweenRuns, train, transferBetweenRuns } from "../../lib/train";
import { parseTransferArgs } from "../../lib/cli/transfer";
import { modelBasedObjectiveChart, modelBasedPerformanceChart, plannedTrajectoryChart, toSvg, zeroShotTransferChart, type VegaLiteSpec } from "../../lib/plots";
import { tinyModelBasedConfig } from "./model-based-config";

const cli = path.join(projectRoot(), "dist", "lib", "cli", "main.js");
const iapo = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

/** A copy of a run folder whose run.json config is `edit`ed (a run of another kind, for the refusals). */
function copyRun(from: string, to: string, edit: (config: Record<string, unknown> & { agent: Record<string, unknown> }) => Record<string, unknown>): string {
  fs.cpSync(from, to, { recursive: true });
  const file = path.join(to, "run.json");
  const record = JSON.parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> & { agent: Record<string, unknown> } };
  fs.writeFileSync(file, JSON.stringify({ ...record, config: edit(record.config) }));
  return to;
}

const dataOf = (spec: VegaLiteSpec): Record<string, unknown>[] => (spec.data as { values: Record<string, unknown>[] } | undefined)?.values ?? (spec.layer as VegaLiteSpec[]).flatMap(dataOf);

test("zero-shot transfer between a model-free and a model-based run, and planning on the model-based one", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-mb-transfer-"));
  const mbConfig = tinyModelBasedConfig("iterative");
  const mfConfig = { ...mbConfig, agent: { ...mbConfig.agent, valueEstimate: "model-free" as const } };
  const [mfRun, mbRun] = [path.join(dir, "mf"), path.join(dir, "mb")];
  assert.equal((await train(mfConfig, { runDir: mfRun })).outcome, "finished");
  assert.equal((await train(mbConfig, { runDir: mbRun })).outcome, "finished");

  // the runs in either order: which is which comes from their value estimates
  const rows = await transferBetweenRuns(mbRun, mfRun, { settings: { episodes: 1, timeLimit: 20 } });
  // each run named by its parent folder (the experiment) and its own, as runs of two sweeps share folder names
  const [mf, mb] = [`${path.basename(dir)}/mf`, `${path.basename(dir)}/mb`];
  assert.equal(rows.length, 8, "four (optimizer, values) pairs at steps 40 and 80");
  for (const step of [40, 80]) {
    const at = rows.filter((r) => r.step === step);
    assert.deepEqual(at.map((r) => `${String(r.optimizer_trained_on)}→${String(r.value_estimate)}:${String(r.transfer)} ${r.optimizer_run}→${r.value_estimate_run}`), [
      `model-free→model-free:false ${mf}→${mf}`, `model-free→model-based:true ${mf}→${mb}`, `model-based→model-free:true ${mb}→${mf}`, `model-based→model-based:false ${mb}→${mb}`,
    ]);
    for (const r of at) assert.ok(Number.isFinite(r.return_mean) && r.episodes === 1, JSON.stringify(r));
  }
  assert.equal(dataOf(zeroShotTransferChart(rows)).length, 8);
  await assert.rejects(transferBetweenRuns(mfRun, mbRun, { steps: [50] }), /step\(s\) 50 not kept by both runs \(common: 40, 80\)/);

  // `iapo transfer` logs each row in the run whose optimizer acted, where loggedAnalysisRows reads them; a second call adds nothing
  const args = ["transfer", mfRun, mbRun, "--set", "episodes=1", "--set", "timeLimit=20"];
  const first = iapo(args);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /zero-shot transfer at 2 steps \(0 already logged\); 8 rows/);
  const logged = loggedAnalysisRows([loadRun(mfRun), loadRun(mbRun)], ZERO_SHOT_TRANSFER);
  assert.deepEqual(logged.map((r) => `${r.run}:${r.step}:${String(r.optimizer_trained_on)}→${String(r.value_estimate)}`), [
    "mf:40:model-free→model-free", "mf:40:model-free→model-based", "mf:80:model-free→model-free", "mf:80:model-free→model-based",
    "mb:40:model-based→model-free", "mb:40:model-based→model-based", "mb:80:model-based→model-free", "mb:80:model-based→model-based",
  ]);
  const key = (r: Record<string, unknown>): string => `${String(r.step)} ${String(r.optimizer_trained_on)} ${String(r.value_estimate)}`;
  const inProcess = new Map(rows.map((r) => [key(r), r.return_mean]));
  for (const r of logged) assert.equal(r.return_mean, inProcess.get(key(r)), `the command's ${key(r)} is the library's`);
  assert.equal(dataOf(zeroShotTransferChart(logged)).length, 8, "the chart reads logged rows");
  const again = await logTransferBetweenRuns(mbRun, mfRun, { settings: { episodes: 1, timeLimit: 20 } });
  assert.deepEqual({ measured: again.measured, skipped: again.skipped, rows: again.rows }, { measured: [], skipped: [40, 80], rows: 0 });
  assert.equal(loggedAnalysisRows([loadRun(mfRun), loadRun(mbRun)], ZERO_SHOT_TRANSFER).length, 8);

  // bad input, refused before any snapshot loads
  const direct = copyRun(mfRun, path.join(dir, "direct"), (c) => ({ ...c, optimizer: "direct", agent: { ...c.agent, optimizer: "direct" } }));
  const otherTask = copyRun(mbRun, path.join(dir, "other-task"), (c) => ({ ...c, env: "PointReach-v0" }));
  const refused = (a: string, b: string, re: RegExp, options = {}) => assert.rejects(logTransferBetweenRuns(a, b, options), re);
  assert.throws(() => parseTransferArgs([mfRun]), /two run folders are required \(one model-free, one model-based\), got 1/);
  assert.throws(() => parseTransferArgs([mfRun, mbRun, "--steps", "x"]), /--steps/);
  await refused(direct, mbRun, /direct.* trained a direct optimizer; transfer needs iterative ones/);
  await refused(mfRun, mfRun, /needs one model-free and one model-based run; .* both trained with model-free values/);
  await refused(mfRun, otherTask, /needs runs of one task: .* is Pendulum-v1, .* is PointReach-v0/);
  await refused(mfRun, mbRun, /step\(s\) 50 not kept by both runs \(common: 40, 80\)/, { steps: [50] });
  await refused(mfRun, mbRun, /zero-shot-transfer: setting "episodes" must be an integer/, { settings: { episodes: 0 } });
  await refused(mfRun, path.join(dir, "nowhere"), /nowhere/);
  assert.match(iapo(["transfer", direct, mbRun]).stderr, /^iapo: zero-shot transfer: .*direct trained a direct optimizer/, "the command prints the error alone");

  // Fig 8b, 8c: the planning estimator on the model-based run's snapshots
  const planning = makeEstimator("model-based-planning", { states: 3, maxEpisodes: 1, timeLimit: 20, iterations: 3 });
  await analyzeRun(mbRun, [planning]);
  const planned = readAnalysisRows(mbRun).filter((r) => r.estimator === "model-based-planning");
  const plans = planned.filter((r) => r.kind === "plan" && r.step === 80);
  assert.equal(plans.length, 4 * 3 * 3, "iterates 0..3 × s_0..s_2 × 3 state dimensions");
  // every iterate plans from the same state: s_0 is the traced state itself
  const starts = plans.filter((r) => r.t === 0 && r.dim === 1).map((r) => r.value);
  assert.ok(starts.every((v) => v === starts[0]), `s_0 differs across iterations: ${starts.join(", ")}`);
  assert.ok(plans.some((r) => r.t === 2 && r.dim === 1 && r.value !== starts[0]), "the model moves the state");
  assert.equal(planned.filter((r) => r.kind === "objective" && r.step === 80).length, 4);
  assert.equal(dataOf(plannedTrajectoryChart(planned, 1)).length, 4 * 3, "one dimension at the last step");
  assert.equal(dataOf(modelBasedObjectiveChart(planned)).length, 8);
  await assert.rejects(analyzeRun(mfRun, [planning]), /model-based-planning: the agent has model-free values/);

  // Fig 8a: learning curves grouped by optimizer and value estimate
  const curves = metricCurve([loadRun(mfRun), loadRun(mbRun)], "train/q1_loss", byOptimizerAndValue);
  assert.deepEqual([...new Set(curves.map((r) => r.group))], ["iterative, model-free", "iterative, model-based"]);
  assert.equal(dataOf(modelBasedPerformanceChart(curves)).length, curves.length);
  const charts = [modelBasedPerformanceChart(curves), plannedTrajectoryChart(planned, 1), modelBasedObjectiveChart(planned), zeroShotTransferChart(rows)];
  for (const spec of charts) assert.match(await toSvg(spec), new RegExp(String(spec.title).replace(/[()]/g, ".")), "renders with its title");
});

test("zero-shot transfer refuses direct optimizers, which never read the value estimate while acting", async () => {
  await initBackend();
  const spec = { observationSize: 3, actionSize: 1 };
  const config = (valueEstimate: "model-free" | "model-based") => ({ ...defaultSacConfig("Pendulum-v1", "direct", "smoke"), valueEstimate });
  const [mf, mb] = [SacAgent.create(config("model-free"), spec, new Rng(1)), SacAgent.create(config("model-based"), spec, new Rng(2))];
  await assert.rejects(zeroShotTransfer({ modelFree: mf, modelBased: mb }, { env: "Pendulum-v1", step: 0, seed: 0 }), /modelFree has a direct optimizer; transfer needs iterative ones/);
  await assert.rejects(zeroShotTransfer({ modelFree: mf, modelBased: mb }, { env: "Pendulum-v1", step: 0, seed: 0 }, { episodes: 0 }), /zero-shot-transfer: setting "episodes" must be an integer/);
  mf.dispose();
  mb.dispose();
});
