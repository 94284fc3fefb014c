/** Estimator rows read back from runs' analysis.jsonl: labels, groups, settings filters, and the tables built on them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../../lib/runs";
import {
  amortizationGapRows, flattenConfig, loggedAnalysisRows, optimizerComparisonRows, refinementGroup, summarizeComparison, testTimeRows, testTimeSummaries,
} from "../../lib/analysis";

/** A run folder holding only analysis.jsonl (all the readers look at), with its config. */
function run(optimizer: string, seed: number, rows: object[], agent: object = { iterations: { train: 5 } }): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-logged-rows-"));
  fs.writeFileSync(path.join(dir, "analysis.jsonl"), rows.map((r) => JSON.stringify(r) + "\n").join(""));
  return { dir, id: `${optimizer}-${seed}`, config: { env: "Hopper-v2", optimizer, seed, agent }, provenance: [], backends: [], status: null, metrics: [], truncatedTail: false };
}

const T = { mode: "auto", extraIterations: 5 };
const ttSummary = (step: number, variant: string, extra: number, settings: object, fields: object) =>
  ({ estimator: "test-time", step, settings, kind: "summary", variant, extra_steps: extra, episodes: 2, states: 3, ...fields });

test("test-time rows: one group per refinement, and each refinement's table row pairs it with its amortized policy", () => {
  const runs = [
    run("direct", 0, [
      ttSummary(10, "amortized", 0, T, { return_mean: 100, return_std: 1, j_mean: -2, j_std: 0.5 }),
      ttSummary(10, "adam+50", 50, T, { return_mean: 98, return_std: 2, j_mean: -1.5, j_std: 0.5, return_change_mean: -2, return_change_std: 1, j_gain_mean: 0.5, j_gain_std: 0.25 }),
      { estimator: "test-time", step: 10, settings: T, kind: "episode", variant: "adam+50", extra_steps: 50, episode: 0, return: 97, return_change: -3 },
    ]),
    run("iterative", 1, [ttSummary(20, "iterative+5", 5, T, { return_mean: 50, return_std: 0, j_mean: 1, j_std: 0, return_change_mean: 0.5, return_change_std: 0, j_gain_mean: 0.25, j_gain_std: 0.125 })]),
  ];
  const rows = testTimeRows(runs);
  assert.deepEqual(rows.map((r) => r.group), ["direct", "direct +50 Adam steps", "direct +50 Adam steps", "iterative +5 iterations"]);
  assert.equal(rows[2].return_change, -3);
  assert.deepEqual(testTimeSummaries(rows), [
    { group: "direct +50 Adam steps", seed: 0, step: 10, extra_steps: 50, episodes: 2, return_amortized: 100, return_refined: 98, return_change_mean: -2, return_change_std: 1, states: 3, j_amortized: -2, j_refined: -1.5, j_gain_mean: 0.5, j_gain_std: 0.25 },
    { group: "iterative +5 iterations", seed: 1, step: 20, extra_steps: 5, episodes: 2, return_amortized: 49.5, return_refined: 50, return_change_mean: 0.5, return_change_std: 0, states: 3, j_amortized: 0.75, j_refined: 1, j_gain_mean: 0.25, j_gain_std: 0.125 },
  ]);
});

test("a list of settings keeps the rows of each (a sweep over one setting); one setting keeps only its own", () => {
  const a = { mode: "iterations", extraIterations: 1 };
  const b = { mode: "iterations", extraIterations: 10 };
  const runs = [run("iterative", 0, [
    ttSummary(5, "iterative+1", 1, a, { j_gain_mean: 0.1 }),
    ttSummary(5, "iterative+10", 10, b, { j_gain_mean: 0.3 }),
    ttSummary(5, "iterative+5", 5, T, { j_gain_mean: 0.2 }),
  ])];
  assert.throws(() => testTimeRows(runs), /test-time rows of 3 different settings; pass the settings to keep/);
  assert.deepEqual(testTimeRows(runs, [b, a]).map((r) => [r.extra_steps, r.group]), [[1, "iterative +1 iteration"], [10, "iterative +10 iterations"]], "log order, only the listed settings");
  assert.deepEqual(testTimeRows(runs, { extraIterations: 10, mode: "iterations" }).map((r) => r.group), ["iterative +10 iterations"]);
});

test("any run label names the curves: the gap per iteration count during training (Fig 17b)", () => {
  const S = { states: 2 };
  const gap = (variant: string) => ({ estimator: "amortization-gap", step: 4, settings: S, kind: "summary", variant, gap_mean: 1 });
  const runs = [run("iterative", 0, [gap("amortized")], { iterations: { train: 1 } }), run("iterative", 0, [gap("amortized"), gap("amortized+5")], { iterations: { train: 5 } })];
  const label = (r: Run) => `${(r.config as { agent: { iterations: { train: number } } }).agent.iterations.train} iterations`;
  assert.deepEqual(amortizationGapRows(runs, S, label).map((r) => r.group), ["1 iterations", "5 iterations", "5 iterations +5 iterations"]);
  // the gap's and test-time's refinements are named alike, singular for one
  const one = [run("iterative", 0, [gap("amortized+1")])];
  assert.deepEqual(amortizationGapRows(one, S).map((r) => r.group), ["iterative +1 iteration"]);
  assert.deepEqual(["amortized", "amortized+2", "iterative+1", "adam+1", "adam+50", "adam+x"].map((variant) => refinementGroup("L", { variant })),
    ["L", "L +2 iterations", "L +1 iteration", "L +1 Adam step", "L +50 Adam steps", "L"]);
});

test("the run's identity replaces a row's field of the same name; the comparison keeps its optimizer as the group", () => {
  const C = { iterations: 2 };
  const point = (optimizer: string, iteration: number, j: number, seconds: number) => ({ estimator: "optimizer-comparison", step: 7, settings: C, optimizer, iteration, j_mean: j, j_std: 0, seconds });
  const runs = [run("iterative", 3, [point("iterative", 0, -1, 0), point("adam", 0, -1, 0), { estimator: "landscape", step: 7, settings: {}, kind: "grid" }])];
  const generic = loggedAnalysisRows(runs, "optimizer-comparison");
  assert.deepEqual(generic.map((r) => [r.optimizer, r.group, r.kind, r.variant, r.seed, r.run]), [["iterative", "iterative", "", "", 3, "iterative-3"], ["iterative", "iterative", "", "", 3, "iterative-3"]]);
  assert.deepEqual(optimizerComparisonRows(runs).map((r) => r.group), ["iterative", "adam"]);
});

test("comparison summary: means over seeds per iteration, and the first iteration reaching the reference's J", () => {
  // two seeds; iterative reaches J = 0 after 2 iterations (mean of −0.5 and 0.5); Adam gets there after 3, CEM never
  const rows = [
    ...[[-2, -1, -0.5, 0], [-2, -1, 0.5, 0]].flatMap((js, seed) => js.map((j, iteration) => ({ seed, optimizer: "iterative", iteration, j_mean: j, seconds: iteration * 0.25 }))),
    ...[[-2, -1.5, -1, 0.5], [-2, -1.5, -1, -0.3]].flatMap((js, seed) => js.map((j, iteration) => ({ seed, optimizer: "adam", iteration, j_mean: j, seconds: iteration * 0.1 }))),
    ...[0, 1, 2, 3].map((iteration) => ({ seed: 0, optimizer: "cem-actions", iteration, j_mean: -2 + iteration * 0.1, seconds: iteration * 0.3 })),
    { optimizer: "adam", iteration: 1, note: "a row without J is ignored" },
  ];
  const summary = summarizeComparison(rows, { optimizer: "iterative", iteration: 2 });
  const byName = Object.fromEntries(summary.map((s) => [s.optimizer, s]));
  assert.deepEqual(byName.iterative, { optimizer: "iterative", seeds: 2, iterations: 3, j_start: -2, j_final: 0, seconds_per_iteration: 0.25, iterations_to_reference: 2, seconds_to_reference: 0.5 });
  assert.equal(byName.adam.iterations_to_reference, 3);
  assert.ok(Math.abs(byName.adam.j_final - 0.1) < 1e-12);
  assert.ok(Math.abs((byName.adam.seconds_to_reference as number) - 0.3) < 1e-12);
  assert.equal(byName["cem-actions"].seeds, 1);
  assert.equal(byName["cem-actions"].iterations_to_reference, null);
  assert.equal(byName["cem-actions"].seconds_to_reference, null);
  assert.throws(() => summarizeComparison(rows, { optimizer: "iterative", iteration: 9 }), /no rows of "iterative" at iteration 9 \(optimizer values: iterative, adam, cem-actions\)/);
  assert.throws(() => summarizeComparison(rows, { optimizer: "direct", iteration: 0, by: "seed" }), /no rows of "direct"/);
});

const betaRun = (optimizer: string, seed: number, betaTrain: number, rows: object[]): Run => run(optimizer, seed, rows, { betaTrain });
const S = { pairs: 2, rollouts: 3 };

const bias = (step: number, q: string, biasMean: number, settings: object = S) => ({ estimator: "value-bias", step, settings, q, biasMean, biasStd: 1 });

test("logged rows of one estimator: flat, labelled with the run, grouped by the optimizer or by any config field", () => {
  const runs = [
    betaRun("direct", 0, 1, [bias(10, "pessimistic", -3), { estimator: "policy-change", step: 10, settings: {}, kl_mean: 1 }, bias(20, "q1", -2)]),
    betaRun("iterative", 1, 2.5, [bias(10, "pessimistic", 4)]),
  ];
  const rows = loggedAnalysisRows(runs, "value-bias");
  assert.deepEqual(rows.map((r) => [r.group, r.seed, r.step, r.q, r.biasMean, r.env, r.run]), [
    ["direct", 0, 10, "pessimistic", -3, "Hopper-v2", "direct-0"],
    ["direct", 0, 20, "q1", -2, "Hopper-v2", "direct-0"],
    ["iterative", 1, 10, "pessimistic", 4, "Hopper-v2", "iterative-1"],
  ]);
  assert.ok(rows.every((r) => !("settings" in r) && !("estimator" in r)), "flat rows");
  const byBeta = loggedAnalysisRows(runs, "value-bias", { label: (r) => `${flattenConfig(r.config).optimizer}, β = ${flattenConfig(r.config)["agent.betaTrain"]}`, group: (label, row) => `${label} (${row.q})` });
  assert.deepEqual(byBeta.map((r) => r.group), ["direct, β = 1 (pessimistic)", "direct, β = 1 (q1)", "iterative, β = 2.5 (pessimistic)"]);
  assert.deepEqual(loggedAnalysisRows(runs, "policy-change").map((r) => [r.step, r.kl_mean]), [[10, 1]]);
  assert.deepEqual(loggedAnalysisRows(runs, "landscape"), []);
});

test("rows of different settings are never mixed: choose them, or a clear error lists them", () => {
  const runs = [betaRun("direct", 0, 1, [bias(10, "pessimistic", -3), bias(10, "pessimistic", 9, { pairs: 100, rollouts: 100 })])];
  assert.throws(() => loggedAnalysisRows(runs, "value-bias"), /value-bias rows of 2 different settings; pass the settings to keep: .*"pairs":2.*\|.*"pairs":100/);
  assert.deepEqual(loggedAnalysisRows(runs, "value-bias", { settings: { rollouts: 100, pairs: 100 } }).map((r) => r.biasMean), [9]);
});
