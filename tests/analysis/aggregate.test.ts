import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "../../lib/core/rng";
import { collectProvenance, createRun, loadRuns, type Run } from "../../lib/runs";
import {
  aggregateSeeds, filterRows, finalScores, flattenConfig, groupRows, iqm, quantile, runRows, stratifiedBootstrapCI,
} from "../../lib/analysis/aggregate";

test("iqm trims ⌊n/4⌋ from each end, as scipy.stats.trim_mean(x, 0.25)", () => {
  assert.equal(iqm([1, 2, 3, 4, 5, 6, 7, 8]), 4.5); // mean of 3, 4, 5, 6
  assert.equal(iqm([5, 1, 4, 2, 3]), 3); // cut 1 each end: mean of 2, 3, 4
  assert.equal(iqm([100, 1, 10, 2]), 6); // mean of 2, 10: the outlier 100 is gone
  assert.equal(iqm([7, 9, 8]), 8); // n = 3: nothing cut, the plain mean
  assert.equal(iqm([4]), 4);
  assert.throws(() => iqm([]), /iqm of no values/);
});

test("quantile interpolates linearly between order statistics (numpy's percentile)", () => {
  assert.equal(quantile([4, 1, 3, 2], 0.25), 1.75);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.throws(() => quantile([1], 1.5), /q must be in \[0, 1\]/);
});

test("the bootstrap CI of all-equal scores has zero width", () => {
  const ci = stratifiedBootstrapCI([[3, 3, 3], [3, 3]], iqm, { rng: new Rng(0), reps: 200 });
  assert.deepEqual(ci, [3, 3]);
});

test("stratification keeps each task's run count: two constant tasks give a zero-width CI", () => {
  // Task A scores 0, task B scores 10, three runs each. Every stratified resample holds three 0s and three 10s,
  // so the IQM (cut 1 each end of six: 0, 0, 10, 10) is 5 every time. Pooled resampling would vary the mix.
  const ci = stratifiedBootstrapCI([[0, 0, 0], [10, 10, 10]], iqm, { rng: new Rng(1), reps: 500 });
  assert.deepEqual(ci, [5, 5]);
  const pooled = stratifiedBootstrapCI([[0, 0, 0, 10, 10, 10]], iqm, { rng: new Rng(1), reps: 500 });
  assert.ok(pooled[0] < 5 && pooled[1] > 5, `an unstratified bootstrap should vary: ${pooled}`);
});

test("a bootstrap CI of the mean of {0, 1} lies inside [0, 1], around 0.5, and repeats with the seed", () => {
  // The resampled mean of n = 2 is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and 97.5% quantiles
  // of many resamples are 0 and 1; a 40% interval (30%..70%) is [0.5, 0.5].
  const mean = (s: number[]): number => s.reduce((a, b) => a + b, 0) / s.length;
  assert.deepEqual(stratifiedBootstrapCI([[0, 1]], mean, { rng: new Rng(2), reps: 4000 }), [0, 1]);
  assert.deepEqual(stratifiedBootstrapCI([[0, 1]], mean, { rng: new Rng(2), reps: 4000, confidence: 0.4 }), [0.5, 0.5]);
  const a = stratifiedBootstrapCI([[1, 5, 2, 8], [3, 9]], iqm, { rng: new Rng(7), reps: 300 });
  const b = stratifiedBootstrapCI([[1, 5, 2, 8], [3, 9]], iqm, { rng: new Rng(7), reps: 300 });
  assert.deepEqual(a, b);
  assert.ok(a[0] < a[1]);
});

test("bad bootstrap input is refused by name", () => {
  assert.throws(() => stratifiedBootstrapCI([[1], []], iqm, { rng: new Rng(0) }), /at least one score in every task/);
  assert.throws(() => stratifiedBootstrapCI([[1]], iqm, { rng: new Rng(0), reps: 0 }), /reps must be a positive integer/);
  assert.throws(() => stratifiedBootstrapCI([[1]], iqm, { rng: new Rng(0), confidence: 1 }), /confidence must be in \(0, 1\)/);
});

test("flattenConfig joins nested fields with dots and keeps arrays as JSON", () => {
  assert.deepEqual(flattenConfig({ env: "Hopper-v2", seed: 1, agent: { beta: 2.5, iterations: { train: 5 }, hidden: [256, 256] } }), {
    env: "Hopper-v2", seed: 1, "agent.beta": 2.5, "agent.iterations.train": 5, "agent.hidden": "[256,256]",
  });
  assert.throws(() => flattenConfig(null), /a run config must be an object/);
});

function fakeRun(id: string, env: string, optimizer: string, seed: number, returns: number[], beta = 1): Run {
  return {
    dir: `/x/${id}`, id, config: { env, optimizer, seed, agent: { betaTrain: beta } }, provenance: [], backends: [],
    status: { state: "finished", step: returns.length * 10, updatedAt: "" }, truncatedTail: false,
    metrics: returns.map((r, i) => ({ step: (i + 1) * 10, "eval/return_mean": r, "train/q1_loss": 0.5 })),
  };
}

const runs = [
  fakeRun("h-d-0", "Hopper-v2", "direct", 0, [10, 20, 30]),
  fakeRun("h-d-1", "Hopper-v2", "direct", 1, [10, 20, 50]),
  fakeRun("h-i-0", "Hopper-v2", "iterative", 0, [10, 40, 60], 2.5),
  fakeRun("h-i-1", "Hopper-v2", "iterative", 1, [10, 40, 80], 2.5),
  fakeRun("p-d-0", "Pendulum-v1", "direct", 0, [-900, -200]),
];

test("runRows gives one row per logged step with config columns and the chosen metrics", () => {
  const rows = runRows(runs.slice(0, 1), ["eval/return_mean"]);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[2], { run: "h-d-0", status: "finished", env: "Hopper-v2", optimizer: "direct", seed: 0, "agent.betaTrain": 1, step: 30, "eval/return_mean": 30 });
  assert.ok("train/q1_loss" in runRows(runs.slice(0, 1))[0], "all metrics when none are named");
});

test("finalScores averages the last k values per run; filterRows and groupRows select on any config field", () => {
  const final = finalScores(runs, "eval/return_mean");
  assert.deepEqual(final.map((r) => [r.run, r.value, r.step]), [["h-d-0", 30, 30], ["h-d-1", 50, 30], ["h-i-0", 60, 30], ["h-i-1", 80, 30], ["p-d-0", -200, 20]]);
  assert.deepEqual(finalScores(runs, "eval/return_mean", 2).map((r) => r.value), [25, 35, 50, 60, -550]);
  assert.deepEqual(filterRows(final, { "agent.betaTrain": 2.5 }).map((r) => r.run), ["h-i-0", "h-i-1"]);
  assert.deepEqual(filterRows(final, { env: ["Pendulum-v1"], seed: (v) => v === 0 }).map((r) => r.run), ["p-d-0"]);
  assert.deepEqual([...groupRows(final, ["env", "optimizer"]).keys()], ['["Hopper-v2","direct"]', '["Hopper-v2","iterative"]', '["Pendulum-v1","direct"]']);
  assert.throws(() => groupRows(final, ["nope"]), /cannot group by "nope": no such column/);
  assert.throws(() => finalScores(runs, "eval/return_mean", 0), /last must be a positive integer/);
});

test("aggregateSeeds: mean ± population std, IQM and its bootstrap CI per group", () => {
  const agg = aggregateSeeds(finalScores(runs, "eval/return_mean"), { by: ["env", "optimizer"], rng: new Rng(3), reps: 1000 });
  assert.equal(agg.length, 3);
  const [hd, hi, pd] = agg;
  assert.deepEqual([hd.env, hd.optimizer, hd.runs, hd.mean, hd.std, hd.iqm], ["Hopper-v2", "direct", 2, 40, 10, 40]);
  assert.deepEqual([hi.runs, hi.mean, hi.std, hi.iqm], [2, 70, 10, 70]);
  // resampled means of {30, 50} are 30, 40 or 50: the 95% interval spans them all
  assert.deepEqual([hd.iqm_low, hd.iqm_high], [30, 50]);
  assert.deepEqual([pd.runs, pd.mean, pd.std, pd.iqm_low, pd.iqm_high], [1, -200, 0, -200, -200]);
  assert.throws(() => aggregateSeeds([{ run: "r", env: "e", value: NaN }], { by: ["env"], rng: new Rng(0) }), /column "value" of run r is NaN, not a finite number/);
});

test("runs logged to a folder load back into rows that aggregate", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-agg-"));
  const prov = collectProvenance();
  for (const seed of [0, 1, 2]) {
    const w = createRun(path.join(root, "exp", `Pendulum-v1_direct_seed${seed}`), { env: "Pendulum-v1", optimizer: "direct", seed }, prov, "wasm");
    w.log({ step: 100, "eval/return_mean": -100 * (seed + 1) });
    w.setStatus("finished", 100);
    w.close();
  }
  const agg = aggregateSeeds(finalScores(loadRuns(root), "eval/return_mean"), { by: ["optimizer"], rng: new Rng(0), reps: 100 });
  assert.equal(agg.length, 1);
  assert.deepEqual([agg[0].runs, agg[0].mean, agg[0].iqm], [3, -200, -200]);
  assert.ok(Math.abs(agg[0].std - Math.sqrt(20000 / 3)) < 1e-9);
});
