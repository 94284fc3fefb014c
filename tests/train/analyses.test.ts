/**
 * Analyses as hooks of training and afterwards on kept snapshots, end to end on Pendulum: they leave training
 * exactly as it is, live rows equal the rows computed afterwards from the snapshots, an interrupted analysis or
 * training run resumes without duplicates, and bad requests fail clearly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { ConfigError, CorruptFileError, IapoError, UnknownNameError } from "../../lib/core/errors";
import { makeEstimator } from "../../lib/analysis";
import { listSnapshots, loadRun, readAnalysisRows, type MetricRow } from "../../lib/runs";
import { analyzeRun, buildTrainConfig, loadSnapshotAgent, loadTrainedAgent, resolveEstimators, train, type TrainConfig } from "../../lib/train";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "iapo-analyses-"));

function tinyConfig(optimizer: "direct" | "iterative"): TrainConfig {
  return buildTrainConfig({
    env: "Pendulum-v1", optimizer, seed: 5, scale: "smoke", totalSteps: 160, evalEvery: 80, evalEpisodes: 1, iterations: 2,
    schedule: { initialRandomSteps: 40, logEvery: 20, checkpointEvery: 40, snapshotEvery: 80 },
    agent: { batchSize: 16, policyHiddenSizes: [16, 16], samples: 2 },
  });
}

/** Two estimators under one name with different settings: their rows must never be mixed up. */
const estimators = () => [makeEstimator("policy-change", { states: 6, stride: 3 }), makeEstimator("policy-change", { states: 4, stride: 5 })];

const comparable = (rows: MetricRow[]): MetricRow[] => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))) as MetricRow);

/** A copy of a run folder without its analyses (as a run trained without them would be). */
function copyWithoutAnalyses(dir: string): string {
  const copy = path.join(tmp(), "copy");
  fs.cpSync(dir, copy, { recursive: true });
  fs.rmSync(path.join(copy, "analysis.jsonl"));
  fs.rmSync(path.join(copy, "analysis-inputs"), { recursive: true });
  return copy;
}

test("analyses leave training unchanged, and live rows equal the rows computed afterwards from snapshots", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  for (const optimizer of ["direct", "iterative"] as const) {
    const config = tinyConfig(optimizer);
    const plain = path.join(tmp(), "plain");
    await train(config, { runDir: plain });
    const live = path.join(tmp(), "live");
    await train(config, { runDir: live, analyses: estimators(), analyzeEvery: 40 });

    assert.deepEqual(comparable(loadRun(live).metrics), comparable(loadRun(plain).metrics), `${optimizer}: analyses changed the training rows`);
    const [a, b] = [await loadTrainedAgent(plain), await loadTrainedAgent(live)];
    assert.deepEqual((await b.agent.getState()).networks, (await a.agent.getState()).networks, `${optimizer}: analyses changed the trained weights`);
    a.agent.dispose();
    b.agent.dispose();
    assert.deepEqual(listSnapshots(plain), [80, 160]);
    // every analysed step keeps a snapshot, so the analysis can be redone afterwards
    assert.deepEqual(listSnapshots(live), [40, 80, 120, 160]);

    const rows = readAnalysisRows(live);
    assert.deepEqual(rows.map((r) => [r.step, r.settings.states, r.previous_step]), [
      [40, 6, null], [40, 4, null], [80, 6, 40], [80, 4, 40], [120, 6, 80], [120, 4, 80], [160, 6, 120], [160, 4, 120],
    ]);
    for (const r of rows.filter((x) => x.previous_step !== null)) assert.ok((r.kl_mean as number) > 0, `${optimizer}: the policy did not change by step ${r.step}`);

    const after = copyWithoutAnalyses(live);
    const result = await analyzeRun(after, estimators(), { every: 40 });
    assert.deepEqual(result.analysed, [40, 80, 120, 160]);
    assert.deepEqual(readAnalysisRows(after), rows, `${optimizer}: rows afterwards differ from the live rows`);

    // the snapshot of the last step holds exactly the trained agent's networks
    const fromSnapshot = await loadSnapshotAgent(live, config, 160);
    const trained = await loadTrainedAgent(live);
    assert.deepEqual((await fromSnapshot.getState()).networks, (await trained.agent.getState()).networks);
    assert.equal(fromSnapshot.alpha, trained.agent.alpha);
    fromSnapshot.dispose();
    trained.agent.dispose();
  }
});

test("an interrupted analysis resumes where it stopped, and a rerun writes nothing new", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  const dir = path.join(tmp(), "r");
  await train(tinyConfig("direct"), { runDir: dir, analyses: estimators(), analyzeEvery: 40 });
  const fresh = copyWithoutAnalyses(dir);
  await analyzeRun(fresh, estimators());
  const complete = fs.readFileSync(path.join(fresh, "analysis.jsonl"), "utf8");
  // killed while writing the fourth row
  const lines = complete.split("\n");
  fs.writeFileSync(path.join(fresh, "analysis.jsonl"), lines.slice(0, 3).join("\n") + "\n" + lines[3].slice(0, 20));
  const resumed = await analyzeRun(fresh, estimators());
  assert.deepEqual(resumed.analysed, [80, 120, 160]);
  assert.deepEqual(resumed.skipped, [40]);
  assert.equal(fs.readFileSync(path.join(fresh, "analysis.jsonl"), "utf8"), complete);
  const again = await analyzeRun(fresh, estimators());
  assert.deepEqual(again.analysed, []);
  assert.equal(again.rows, 0);
  assert.equal(fs.readFileSync(path.join(fresh, "analysis.jsonl"), "utf8"), complete);
});

test("a training run with analyses, stopped and resumed, logs the uninterrupted run's rows without duplicates", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  const config = tinyConfig("iterative");
  const whole = path.join(tmp(), "whole");
  await train(config, { runDir: whole, analyses: estimators(), analyzeEvery: 40 });
  const split = path.join(tmp(), "split");
  await train(config, { runDir: split, analyses: estimators(), analyzeEvery: 40, stopAt: 90 });
  // as if a crash after the checkpoint at 90 had left rows and a snapshot of step 120
  fs.appendFileSync(path.join(split, "analysis.jsonl"), JSON.stringify({ estimator: "policy-change", step: 120, settings: { states: 6, stride: 3 }, stale: true }) + "\n");
  fs.cpSync(path.join(split, "snapshots", "step-000000080"), path.join(split, "snapshots", "step-000000120"), { recursive: true });
  await train(config, { runDir: split, ifExists: "resume", analyses: estimators(), analyzeEvery: 40 });
  assert.deepEqual(readAnalysisRows(split), readAnalysisRows(whole));
  assert.deepEqual(comparable(loadRun(split).metrics), comparable(loadRun(whole).metrics));
  assert.match(fs.readFileSync(path.join(split, "analysis.after-checkpoint-1.jsonl"), "utf8"), /"stale":true/);
});

test("bad estimator names, settings, periods and missing or damaged snapshots are clear errors", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  assert.throws(() => resolveEstimators("policy-change,gapp"), (e: unknown) => e instanceof UnknownNameError && /unknown estimator "gapp"; known: .*policy-change/.test(e.message));
  assert.throws(() => resolveEstimators(" , "), /no estimator named/);
  assert.throws(() => makeEstimator("policy-change", { state: 5 }), (e: unknown) => e instanceof ConfigError && /unknown policy-change setting "state"; known: states, stride/.test(e.message));
  assert.throws(() => makeEstimator("policy-change", { states: 0 }), /policy-change setting states must be an integer >= 1, got 0/);

  const config = tinyConfig("direct");
  const none = { ...config, schedule: { ...config.schedule, snapshotEvery: 0 } };
  await assert.rejects(train(none, { runDir: path.join(tmp(), "x"), analyses: estimators() }), /analyzeEvery must be a positive integer \(schedule\.snapshotEvery is 0: give analyzeEvery\)/);
  await assert.rejects(train(config, { runDir: path.join(tmp(), "x"), analyses: [...estimators(), makeEstimator("policy-change", { states: 6, stride: 3 })] }), /is listed twice/);

  const dir = path.join(tmp(), "plain");
  await train(none, { runDir: dir });
  await assert.rejects(analyzeRun(dir, estimators()), (e: unknown) => e instanceof IapoError && /kept no snapshots \(kept: none\)/.test(e.message));
  const kept = path.join(tmp(), "kept");
  await train(config, { runDir: kept });
  // the last step of the run counts as a multiple of any period
  assert.deepEqual((await analyzeRun(kept, [makeEstimator("policy-change", { states: 3 })], { every: 70 })).analysed, [160]);
  await assert.rejects(analyzeRun(dir, estimators(), { every: 70 }), /kept no snapshots at multiples of 70 \(kept: none\)/);
  await assert.rejects(analyzeRun(kept, estimators(), { every: 0 }), /every must be a positive integer/);
  await assert.rejects(loadSnapshotAgent(kept, config, 40), /no snapshot at step 40 in .*snapshots \(kept: 80, 160\)/);
  fs.writeFileSync(path.join(kept, "snapshots", "step-000000160", "arrays.bin"), "");
  await assert.rejects(analyzeRun(kept, estimators()), (e: unknown) => e instanceof CorruptFileError && /step-000000160\/arrays\.bin: 0 bytes/.test(e.message));
  fs.writeFileSync(path.join(kept, "snapshots", "step-000000080", "state.json"), JSON.stringify({ format: "iapo-snapshot-1", bytes: 0, state: { step: 80 } }));
  fs.writeFileSync(path.join(kept, "snapshots", "step-000000080", "arrays.bin"), "");
  await assert.rejects(loadSnapshotAgent(kept, config, 80), (e: unknown) => e instanceof CorruptFileError && /step-000000080\/state\.json: not the agent snapshot of step 80/.test(e.message));
});
