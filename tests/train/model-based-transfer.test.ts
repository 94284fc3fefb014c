/**
 * Fig. 8's analyses on small Pendulum runs: zero-shot transfer between a model-free and a model-based iterative
 * run completes with one row per (optimizer, values) pair at every common snapshot, the planning estimator
 * records planned trajectories and J across iterations on a model-based run, each chart builder draws its rows,
 * and misuse (a direct optimizer, runs swapped, a model-free agent) fails with a clear error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { SacAgent } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { makeEstimator, zeroShotTransfer, byOptimizerAndValue, metricCurve } from "../../lib/analysis";
import { readAnalysisRows } from "../../lib/runs/analysis-log";
import { loadRun } from "../../lib/runs";
import { analyzeRun, train, transferBetweenRuns } from "../../lib/train";
import { modelBasedObjectiveChart, modelBasedPerformanceChart, plannedTrajectoryChart, toSvg, zeroShotTransferChart, type VegaLiteSpec } from "../../lib/plots";
import { tinyModelBasedConfig } from "./model-based-config";

const dataOf = (spec: VegaLiteSpec): Record<string, unknown>[] => (spec.data as { values: Record<string, unknown>[] } | undefined)?.values ?? (spec.layer as VegaLiteSpec[]).flatMap(dataOf);

test("zero-shot transfer between a model-free and a model-based run, and planning on the model-based one", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-mb-transfer-"));
  const mbConfig = tinyModelBasedConfig("iterative");
  const mfConfig = { ...mbConfig, agent: { ...mbConfig.agent, valueEstimate: "model-free" as const } };
  const [mfRun, mbRun] = [path.join(dir, "mf"), path.join(dir, "mb")];
  assert.equal((await train(mfConfig, { runDir: mfRun })).outcome, "finished");
  assert.equal((await train(mbConfig, { runDir: mbRun })).outcome, "finished");

  const rows = await transferBetweenRuns(mfRun, mbRun, { settings: { episodes: 1, timeLimit: 20 } });
  assert.equal(rows.length, 8, "four (optimizer, values) pairs at steps 40 and 80");
  for (const step of [40, 80]) {
    const at = rows.filter((r) => r.step === step);
    assert.deepEqual(at.map((r) => `${String(r.optimizer_trained_on)}→${String(r.values)}:${String(r.transfer)}`), [
      "model-free→model-free:false", "model-free→model-based:true", "model-based→model-free:true", "model-based→model-based:false",
    ]);
    for (const r of at) assert.ok(Number.isFinite(r.return_mean) && r.episodes === 1, JSON.stringify(r));
  }
  assert.equal(dataOf(zeroShotTransferChart(rows)).length, 8);
  await assert.rejects(transferBetweenRuns(mbRun, mfRun), /modelFree must be an agent trained with model-free values, got model-based/);
  await assert.rejects(transferBetweenRuns(mfRun, mbRun, { steps: [50] }), /step\(s\) 50 not kept by both runs \(common: 40, 80\)/);

  // Fig 8b, 8c: the planning estimator on the model-based run's snapshots
  const planning = makeEstimator("model-based-planning", { states: 3, maxEpisodes: 1, timeLimit: 20, iterations: 3 });
  await analyzeRun(mbRun, [planning]);
  const logged = readAnalysisRows(mbRun).filter((r) => r.estimator === "model-based-planning");
  const plans = logged.filter((r) => r.kind === "plan" && r.step === 80);
  assert.equal(plans.length, 4 * 3 * 3, "iterates 0..3 × s_0..s_2 × 3 state dimensions");
  // every iterate plans from the same state: s_0 is the traced state itself
  const starts = plans.filter((r) => r.t === 0 && r.dim === 1).map((r) => r.value);
  assert.ok(starts.every((v) => v === starts[0]), `s_0 differs across iterations: ${starts.join(", ")}`);
  assert.ok(plans.some((r) => r.t === 2 && r.dim === 1 && r.value !== starts[0]), "the model moves the state");
  assert.equal(logged.filter((r) => r.kind === "objective" && r.step === 80).length, 4);
  assert.equal(dataOf(plannedTrajectoryChart(logged, 1)).length, 4 * 3, "one dimension at the last step");
  assert.equal(dataOf(modelBasedObjectiveChart(logged)).length, 8);
  await assert.rejects(analyzeRun(mfRun, [planning]), /model-based-planning: the agent has model-free values/);

  // Fig 8a: learning curves grouped by optimizer and value estimate
  const curves = metricCurve([loadRun(mfRun), loadRun(mbRun)], "train/q1_loss", byOptimizerAndValue);
  assert.deepEqual([...new Set(curves.map((r) => r.group))], ["iterative, model-free", "iterative, model-based"]);
  assert.equal(dataOf(modelBasedPerformanceChart(curves)).length, curves.length);
  const charts = [modelBasedPerformanceChart(curves), plannedTrajectoryChart(logged, 1), modelBasedObjectiveChart(logged), zeroShotTransferChart(rows)];
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
