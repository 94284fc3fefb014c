import { test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../../lib/runs";
import { byConfigField, finalValues, metricCurve, perIterationMeans, runIdentity, selectRuns, summarizeByGroup } from "../../lib/analysis/curves";

function run(id: string, optimizer: string, seed: number, metrics: Run["metrics"]): Run {
  return { dir: `/x/${id}`, id, config: { env: "Pendulum-v1", optimizer, seed }, provenance: [], backends: [], status: null, metrics, truncatedTail: false };
}

const runs = [
  run("a", "direct", 0, [
    { step: 10, "eval/return_mean": -100 },
    { step: 10, "train/q1_loss": 2 },
    { step: 20, "eval/return_mean": -50, "train/j_improvement_iter1": null },
  ]),
  run("b", "iterative", 1, [
    { step: 10, "eval/return_mean": -80, "train/j_improvement_iter1": 1, "train/j_improvement_iter2": 0.5 },
    { step: 20, "eval/return_mean": -20, "train/j_improvement_iter1": 3, "train/j_improvement_iter2": 1.5 },
  ]),
];

test("metricCurve returns one tidy row per logged value, labelled by run, seed and group", () => {
  const rows = metricCurve(runs, "eval/return_mean");
  assert.deepEqual(rows.map((r) => [r.run, r.step, r.value, r.seed, r.group]), [
    ["a", 10, -100, 0, "direct"],
    ["a", 20, -50, 0, "direct"],
    ["b", 10, -80, 1, "iterative"],
    ["b", 20, -20, 1, "iterative"],
  ]);
});

test("finalValues keeps the last value per run", () => {
  assert.deepEqual(finalValues(runs, "eval/return_mean").map((r) => [r.run, r.value]), [["a", -50], ["b", -20]]);
});

test("perIterationMeans averages each iteration's key over the logged rows, skipping nulls", () => {
  const rows = perIterationMeans(runs, "train/j_improvement_iter");
  assert.deepEqual(rows.map((r) => [r.run, r.iteration, r.value]), [["b", 1, 2], ["b", 2, 1]]);
  assert.deepEqual(perIterationMeans(runs, "train/j_improvement_iter", 20).map((r) => r.value), [3, 1.5]);
});

test("summarizeByGroup computes mean, population std, min and max", () => {
  const s = summarizeByGroup([{ group: "g", value: 1 }, { group: "g", value: 3 }, { group: "h", value: 5 }]);
  assert.deepEqual(s, [
    { group: "g", runs: 2, mean: 2, std: 1, min: 1, max: 3 },
    { group: "h", runs: 1, mean: 5, std: 0, min: 5, max: 5 },
  ]);
});

test("a run whose config lacks env/optimizer/seed is named in a clear error", () => {
  const bad: Run = { ...runs[0], dir: "/x/odd", config: { something: 1 } };
  assert.throws(() => runIdentity(bad), /\/x\/odd\/run\.json: config has no env\/optimizer\/seed/);
  assert.throws(() => metricCurve([bad], "eval/return_mean"), /is it a training run/);
});

test("selectRuns keeps the runs matching every given field", () => {
  assert.deepEqual(selectRuns(runs, { optimizer: "iterative" }).map((r) => r.id), ["b"]);
  assert.deepEqual(selectRuns(runs, { env: "Pendulum-v1", seed: 0 }).map((r) => r.id), ["a"]);
  assert.deepEqual(selectRuns(runs, {}).map((r) => r.id), ["a", "b"]);
});

test("byConfigField names curves by any nested config field, and names a run that lacks it", () => {
  const withIterations = (id: string, train: number): Run => ({ ...run(id, "iterative", 0, [{ step: 5, "eval/return_mean": train }]), config: { env: "Hopper-v2", optimizer: "iterative", seed: 0, agent: { iterations: { train, act: train } } } });
  const k = byConfigField("agent.iterations.train", (v) => `k = ${String(v)}`);
  assert.deepEqual(metricCurve([withIterations("x", 1), withIterations("y", 5)], "eval/return_mean", k).map((r) => [r.group, r.value]), [["k = 1", 1], ["k = 5", 5]]);
  assert.equal(byConfigField("optimizer")(runs[0]), "direct");
  assert.throws(() => byConfigField("agent.iterations.train")(runs[0]), /\/x\/a\/run\.json: config has no field "agent\.iterations\.train"/);
});
