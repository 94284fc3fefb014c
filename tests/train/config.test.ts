/**
 * The run schedule and the agent's hyperparameters are separate records; requests, the CLI's settings and run.json
 * files of the earlier shape (schedule fields inside `agent`) all give the same config, and bad settings fail
 * naming the field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../../lib/core/errors";
import { projectRoot } from "../../lib/core/paths";
import { initBackend } from "../../lib/backend/select";
import { loadRun } from "../../lib/runs";
import {
  SCHEDULE_FIELDS, SCHEDULE_PRESETS, buildTrainConfig, loadTrainRun, loadTrainedAgent, migrateTrainConfig, train, type TrainConfig,
} from "../../lib/train";

const OLD_CONFIG = path.join(projectRoot(), "tests", "train", "fixtures", "run-config-before-schedule.json");

/** The config the fixture was written from, built today. */
function fixtureConfig(): TrainConfig {
  const c = buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", seed: 7, scale: "smoke", totalSteps: 160, evalEvery: 80, evalEpisodes: 1 });
  c.schedule.initialRandomSteps = 40;
  c.schedule.logEvery = 20;
  c.schedule.checkpointEvery = 40;
  c.agent.batchSize = 16;
  c.agent.policyHiddenSizes = [16, 16];
  return c;
}

test("the paper's schedule and agent settings live in separate records", () => {
  const c = buildTrainConfig({ env: "HalfCheetah-v2", optimizer: "direct", scale: "paper" });
  assert.deepEqual(c.schedule, SCHEDULE_PRESETS.paper);
  assert.equal(c.schedule.totalSteps, 3_000_000);
  assert.equal(c.schedule.bufferSize, 1e6);
  assert.equal(c.schedule.initialRandomSteps, 5000);
  assert.equal(c.schedule.updatesPerStep, 1);
  assert.equal(c.schedule.snapshotEvery, 10_000);
  assert.equal(c.agent.batchSize, 256);
  for (const field of SCHEDULE_FIELDS) assert.ok(!(field in c.agent), `agent still has ${field}`);
  assert.equal(buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", scale: "quick" }).schedule.snapshotEvery, 2_000);
  assert.equal(buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", scale: "smoke" }).schedule.snapshotEvery, 300);
});

test("a shorter run shrinks the random phase and the periods to fit; requests change schedule and agent fields", () => {
  const c = buildTrainConfig({ env: "Pendulum-v1", optimizer: "iterative", scale: "paper", totalSteps: 4000, iterations: 3, evalEpisodes: 2, schedule: { snapshotEvery: 500 }, agent: { betaTrain: 2 } });
  assert.deepEqual(c.schedule, {
    totalSteps: 4000, initialRandomSteps: 800, updatesPerStep: 1, bufferSize: 1_000_000, evalEvery: 4000, evalEpisodes: 2, logEvery: 1000, checkpointEvery: 4000, snapshotEvery: 500,
  });
  assert.deepEqual(c.agent.iterations, { train: 3, act: 3, eval: 3 });
  assert.equal(c.agent.betaTrain, 2);
});

test("bad schedule settings, and schedule fields given as agent settings, fail naming the field", () => {
  const req = { env: "Pendulum-v1", optimizer: "direct", scale: "smoke" } as const;
  const fails = (r: Parameters<typeof buildTrainConfig>[0], re: RegExp): void => {
    assert.throws(() => buildTrainConfig(r), (e: unknown) => e instanceof ConfigError && re.test(e.message), re.source);
  };
  fails({ ...req, agent: { bufferSize: 100 } }, /"bufferSize" is a run schedule setting, not an agent setting: set schedule\.bufferSize/);
  fails({ ...req, schedule: { snapshotEvry: 100 } }, /unknown schedule setting "snapshotEvry"; known: totalSteps, .*snapshotEvery/);
  fails({ ...req, schedule: { snapshotEvery: -1 } }, /schedule\.snapshotEvery must be an integer >= 0, got -1/);
  fails({ ...req, schedule: { logEvery: 2.5 } }, /schedule\.logEvery must be an integer >= 1, got 2\.5/);
  fails({ ...req, schedule: { initialRandomSteps: 700 } }, /schedule\.initialRandomSteps must be at most totalSteps \(600\), got 700/);
});

test("a run.json of the earlier shape migrates to the same config", () => {
  const old = JSON.parse(fs.readFileSync(OLD_CONFIG, "utf8")) as Record<string, unknown>;
  assert.equal((old.agent as Record<string, unknown>).totalSteps, 160, "the fixture is in the earlier shape");
  const migrated = migrateTrainConfig(old);
  const today = fixtureConfig();
  // snapshotEvery did not exist then: the smoke default for a 160-step run
  assert.equal(migrated.schedule.snapshotEvery, 160);
  assert.deepEqual(migrated, today);
  assert.deepEqual(migrateTrainConfig(today), today, "a config of today's shape is read as it is");
  assert.throws(() => migrateTrainConfig({ env: "x" }, "/r/run.json"), /\/r\/run\.json: not a training config/);
});

test("a run started before the schedule split loads, and resumes to the end", { timeout: 5 * 60_000 }, async () => {
  await initBackend();
  const config = fixtureConfig();
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "iapo-old-")), "run");
  const stopped = await train(config, { runDir: dir, stopAt: 60 });
  assert.equal(stopped.outcome, "interrupted");
  // the run.json as the earlier code wrote it
  const record = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as { config: unknown };
  record.config = JSON.parse(fs.readFileSync(OLD_CONFIG, "utf8"));
  fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify(record, null, 2));

  assert.deepEqual(loadTrainRun(dir).config, config);
  const { agent, config: loaded, step } = await loadTrainedAgent(dir);
  agent.dispose();
  assert.equal(step, 60);
  assert.equal(loaded.schedule.totalSteps, 160);
  const resumed = await train(config, { runDir: dir, ifExists: "resume" });
  assert.equal(resumed.outcome, "finished");
  assert.equal(resumed.step, 160);
  assert.deepEqual(loadRun(dir).metrics.filter((m) => m["train/updates"] !== undefined).map((m) => m.step), [20, 40, 60, 80, 100, 120, 140, 160]);
  assert.equal((await train(config, { runDir: dir, ifExists: "reuse" })).outcome, "reused");
});
