/** An estimator's logged rows from several runs: flat, labelled with each run, grouped as asked, one setting at a time. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../../lib/runs";
import { flattenConfig, loggedAnalysisRows } from "../../lib/analysis";

const S = { pairs: 2, rollouts: 3 };

/** A run folder holding only analysis.jsonl (all the reader looks at), with its config. */
function run(optimizer: string, seed: number, betaTrain: number, rows: object[]): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-logged-rows-"));
  fs.writeFileSync(path.join(dir, "analysis.jsonl"), rows.map((r) => JSON.stringify(r) + "\n").join(""));
  return { dir, id: `${optimizer}-${betaTrain}-${seed}`, config: { env: "Hopper-v2", optimizer, seed, agent: { betaTrain } }, provenance: [], backends: [], status: null, metrics: [], truncatedTail: false };
}
const bias = (step: number, q: string, biasMean: number, settings: object = S) => ({ estimator: "value-bias", step, settings, q, biasMean, biasStd: 1 });

test("logged rows of one estimator: flat, labelled with the run, grouped by the optimizer or by any config field", () => {
  const runs = [
    run("direct", 0, 1, [bias(10, "pessimistic", -3), { estimator: "policy-change", step: 10, settings: {}, kl_mean: 1 }, bias(20, "q1", -2)]),
    run("iterative", 1, 2.5, [bias(10, "pessimistic", 4)]),
  ];
  const rows = loggedAnalysisRows(runs, "value-bias");
  assert.deepEqual(rows.map((r) => [r.group, r.seed, r.step, r.q, r.biasMean, r.env, r.run]), [
    ["direct", 0, 10, "pessimistic", -3, "Hopper-v2", "direct-1-0"],
    ["direct", 0, 20, "q1", -2, "Hopper-v2", "direct-1-0"],
    ["iterative", 1, 10, "pessimistic", 4, "Hopper-v2", "iterative-2.5-1"],
  ]);
  assert.ok(rows.every((r) => !("settings" in r) && !("estimator" in r)), "flat rows");
  const byBeta = loggedAnalysisRows(runs, "value-bias", { group: (r, row) => `${flattenConfig(r.config).optimizer}, β = ${flattenConfig(r.config)["agent.betaTrain"]} (${row.q})` });
  assert.deepEqual(byBeta.map((r) => r.group), ["direct, β = 1 (pessimistic)", "direct, β = 1 (q1)", "iterative, β = 2.5 (pessimistic)"]);
  assert.deepEqual(loggedAnalysisRows(runs, "policy-change").map((r) => [r.step, r.kl_mean]), [[10, 1]]);
  assert.deepEqual(loggedAnalysisRows(runs, "landscape"), []);
});

test("rows of different settings are never mixed: choose them, or a clear error lists them", () => {
  const runs = [run("direct", 0, 1, [bias(10, "pessimistic", -3), bias(10, "pessimistic", 9, { pairs: 100, rollouts: 100 })])];
  assert.throws(() => loggedAnalysisRows(runs, "value-bias"), /value-bias rows of 2 different settings; pass the settings to keep: .*"pairs":2.*\|.*"pairs":100/);
  assert.deepEqual(loggedAnalysisRows(runs, "value-bias", { settings: { rollouts: 100, pairs: 100 } }).map((r) => r.biasMean), [9]);
});
