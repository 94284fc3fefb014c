/**
 * The training loop end to end on Pendulum: a resumed run logs exactly what the uninterrupted run logs, a NaN
 * stops training with a clear error and loses nothing logged, and bad configs fail naming the field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { ConfigError, NonFiniteError } from "../../lib/core/errors";
import { SacAgent } from "../../lib/agents/sac/agent";
import { loadRun, type MetricRow } from "../../lib/runs";
import { agentPolicy, buildTrainConfig, evalSeed, evaluate, loadTrainedAgent, train, type TrainConfig } from "../../lib/train";
import { makeEnv, toEnvAction } from "../../lib/envs";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "iapo-train-"));

/** A tiny but complete run: random phase, updates, two evaluations, several checkpoints. */
function tinyConfig(optimizer: "direct" | "iterative"): TrainConfig {
  return buildTrainConfig({
    env: "Pendulum-v1", optimizer, seed: 7, scale: "smoke", totalSteps: 160, evalEvery: 80, evalEpisodes: 1, iterations: 2,
    schedule: { initialRandomSteps: 40, logEvery: 20, checkpointEvery: 40 },
    agent: { batchSize: 16, policyHiddenSizes: [16, 16], samples: 2 },
  });
}

/** Rows without wall-clock figures, which legitimately differ between runs. */
function comparable(rows: MetricRow[]): MetricRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))) as MetricRow);
}

test("a run interrupted and resumed logs exactly the rows of the uninterrupted run", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  for (const optimizer of ["direct", "iterative"] as const) {
    const config = tinyConfig(optimizer);
    const whole = path.join(tmp(), "whole");
    const r1 = await train(config, { runDir: whole });
    assert.equal(r1.outcome, "finished");

    const split = path.join(tmp(), "split");
    // stops between checkpoints (every 40 steps): the rows logged after step 80 are set aside and redone
    const r2 = await train(config, { runDir: split, stopAt: 90 });
    assert.equal(r2.outcome, "interrupted");
    assert.equal(loadRun(split).status?.state, "interrupted");
    assert.equal(r2.step, 90);
    await assert.rejects(train(config, { runDir: split }), /a run already exists/);
    const r3 = await train(config, { runDir: split, ifExists: "resume" });
    assert.equal(r3.outcome, "finished");

    const a = loadRun(whole), b = loadRun(split);
    assert.ok(a.metrics.some((m) => typeof m["train/q1_loss"] === "number"), "no train rows logged");
    assert.ok(a.metrics.some((m) => typeof m["eval/return_mean"] === "number"), "no eval rows logged");
    assert.deepEqual(comparable(b.metrics), comparable(a.metrics), `${optimizer}: resumed metrics differ`);
    assert.equal(b.provenance.length, 2);
    assert.equal(b.status?.state, "finished");
  }
});

test("a finished run is reused only with the same config, and its trained agent loads back", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  const config = tinyConfig("direct");
  const dir = path.join(tmp(), "r");
  await train(config, { runDir: dir });
  // the direct agent's evaluation is deterministic: the loaded agent reproduces the last logged return exactly
  const evals = loadRun(dir).metrics.filter((m) => typeof m["eval/return_mean"] === "number");
  const { agent, step } = await loadTrainedAgent(dir);
  const env = await makeEnv(config.env);
  try {
    assert.equal(step, config.schedule.totalSteps);
    const again = evaluate(agent, env, 1, evalSeed(config.seed, evals.length - 1));
    assert.equal(again.mean, evals[evals.length - 1]["eval/return_mean"]);
    const policy = agentPolicy(agent, env);
    const { observation } = env.reset({ seed: 1 });
    assert.deepEqual([...policy(observation)], [...toEnvAction(agent.act(observation, "eval"), env)]);
  } finally {
    agent.dispose();
    env.dispose();
  }
  const again = await train(config, { runDir: dir, ifExists: "reuse" });
  assert.equal(again.outcome, "reused");
  const other = { ...config, seed: 8 };
  await assert.rejects(train(other, { runDir: dir, ifExists: "reuse" }), /started with a different config/);
});

test("NaN in an update stops training with a clear error; the run is marked failed and keeps its rows", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  const config = tinyConfig("direct");
  const dir = path.join(tmp(), "nan");
  const original = SacAgent.prototype.update;
  let calls = 0;
  SacAgent.prototype.update = function (this: SacAgent, batch) {
    const m = original.call(this, batch);
    if (++calls === 50) throw new NonFiniteError(`update ${calls}: q1 loss is NaN`);
    return m;
  };
  try {
    await assert.rejects(train(config, { runDir: dir }), (e: unknown) => e instanceof NonFiniteError && /q1 loss is NaN/.test(e.message));
  } finally {
    SacAgent.prototype.update = original;
  }
  const run = loadRun(dir);
  assert.equal(run.status?.state, "failed");
  assert.match(run.status?.error ?? "", /q1 loss is NaN/);
  // 40 random steps + 50 updates = step 90: rows up to step 80 were logged and survive
  assert.deepEqual(run.metrics.filter((m) => m["train/updates"] !== undefined).map((m) => m.step), [20, 40, 60, 80]);
  // the last checkpoint (step 80) is intact: the run resumes from it and finishes
  const resumed = await train(config, { runDir: dir, ifExists: "resume" });
  assert.equal(resumed.outcome, "finished");
});

test("bad configs fail with a ConfigError naming the problem", () => {
  assert.throws(() => buildTrainConfig({ env: "Pendulum-v1", optimizer: "newton", scale: "smoke" }), (e: unknown) => e instanceof ConfigError && /optimizer must be one of direct, iterative, got "newton"/.test(e.message));
  assert.throws(() => buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", scale: "smoke", agent: { betta: 2 } }), /unknown agent setting "betta"; known: .*betaTrain/);
  assert.throws(() => buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", scale: "smoke", agent: { gamma: 1.5 } }), /SacConfig\.gamma must be a number in \[0, 1\], got 1\.5/);
  assert.throws(() => buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", scale: "smoke", seed: -1 }), /seed must be a non-negative integer/);
});

test("an unknown environment fails before anything is written", async () => {
  const dir = path.join(tmp(), "bad-env");
  const config = buildTrainConfig({ env: "Hoppper-v2", optimizer: "direct", scale: "smoke" });
  await assert.rejects(train(config, { runDir: dir }), /unknown environment "Hoppper-v2"/);
  assert.equal(fs.existsSync(path.join(dir, "run.json")), false);
});

test("toEnvAction maps [-1, 1] onto the env's bounds", () => {
  const env = { actionLow: new Float64Array([-2, 0]), actionHigh: new Float64Array([2, 10]) };
  assert.deepEqual([...toEnvAction([-1, -1], env)], [-2, 0]);
  assert.deepEqual([...toEnvAction([1, 1], env)], [2, 10]);
  assert.deepEqual([...toEnvAction([0.5, 0], env)], [1, 5]);
});

test("loading an agent from a folder that is not a run is a clear error", async () => {
  await assert.rejects(loadTrainedAgent(tmp()), /is not a run folder/);
});

test("aborting through the signal checkpoints and marks the run interrupted", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  const controller = new AbortController();
  controller.abort();
  const dir = path.join(tmp(), "aborted");
  const r = await train(tinyConfig("direct"), { runDir: dir, signal: controller.signal });
  assert.equal(r.outcome, "interrupted");
  assert.equal(r.step, 0);
  assert.equal(loadRun(dir).status?.state, "interrupted");
});

/** Train rows only (no evaluation), without wall-clock figures. */
const trainRows = (rows: MetricRow[]): MetricRow[] => comparable(rows.filter((r) => r["eval/return_mean"] === undefined));
const evalReturns = (rows: MetricRow[]): unknown[] => rows.filter((r) => r["eval/return_mean"] !== undefined).map((r) => r["eval/return_mean"]);

test("evaluation iterations change evaluation alone: a run with eval 4 ≠ act 2 collects the same data and logs the same train rows as eval = act", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  const runs = new Map<number, MetricRow[]>();
  for (const evaluation of [2, 4]) {
    const config = tinyConfig("iterative");
    config.agent.iterations = { ...config.agent.iterations, eval: evaluation };
    const dir = path.join(tmp(), `eval${evaluation}`);
    await train(config, { runDir: dir });
    runs.set(evaluation, loadRun(dir).metrics);
  }
  const base = runs.get(2) as MetricRow[];
  assert.ok(trainRows(base).some((r) => typeof r["train/q1_loss"] === "number"), "train rows with updates");
  assert.equal(evalReturns(base).length, 2, "two evaluations");
  const rows = runs.get(4) as MetricRow[];
  assert.deepEqual(trainRows(rows), trainRows(base), "the same train rows as eval = act");
  assert.notDeepEqual(evalReturns(rows), evalReturns(base), "other evaluation returns");
});

test("a run with the authors' code's SAC options (α loss, hard target copies, target Q for the policy and acting, more evaluation iterations) resumes exactly", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  const config = tinyConfig("iterative");
  // a copy every 20 updates: the resumed run (from step 80) must copy on the same updates
  Object.assign(config.agent, { temperatureLoss: "alpha", targetUpdate: "hard", tau: 0.05, useTargetQForPolicy: true, useTargetQForActing: true, iterations: { train: 2, act: 2, eval: 3 } });
  config.overrides.push("agent.temperatureLoss", "agent.targetUpdate", "agent.tau", "agent.useTargetQForPolicy", "agent.useTargetQForActing", "agent.iterations.eval");
  const whole = path.join(tmp(), "whole");
  await train(config, { runDir: whole });
  const split = path.join(tmp(), "split");
  assert.equal((await train(config, { runDir: split, stopAt: 90 })).outcome, "interrupted");
  assert.equal((await train(config, { runDir: split, ifExists: "resume" })).outcome, "finished");
  assert.deepEqual(comparable(loadRun(split).metrics), comparable(loadRun(whole).metrics));
});
