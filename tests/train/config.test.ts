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
import { FIDELITY_OPTIONS_BEFORE_PRESETS } from "../../lib/agents/sac/config";
import { SCHEDULE_FIELDS, SCHEDULE_PRESETS } from "../../lib/presets";
import {
  buildTrainConfig, loadTrainRun, loadTrainedAgent, migrateTrainConfig, train, validateTrainConfig, type TrainConfig,
} from "../../lib/train";

const OLD_CONFIG = path.join(projectRoot(), "tests", "train", "fixtures", "run-config-before-schedule.json");

/** The config the fixture was written from, built today: the options as they computed then, and no preset claimed. */
function fixtureConfig(): TrainConfig {
  const c = buildTrainConfig({
    env: "Pendulum-v1", optimizer: "direct", seed: 7, scale: "smoke", totalSteps: 160, evalEvery: 80, evalEpisodes: 1,
    schedule: { initialRandomSteps: 40, logEvery: 20, checkpointEvery: 40 },
    agent: { batchSize: 16, policyHiddenSizes: [16, 16], ...FIDELITY_OPTIONS_BEFORE_PRESETS },
  });
  return { ...c, preset: null, overrides: [] };
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

test("a config names its preset and every setting that differs from it", () => {
  const plain = buildTrainConfig({ env: "Hopper-v2", optimizer: "iterative", scale: "paper" });
  assert.equal(plain.preset, "paper", "the default preset");
  assert.deepEqual(plain.overrides, []);
  const changed = buildTrainConfig({
    env: "Hopper-v2", optimizer: "iterative", scale: "paper", preset: "authors-code", iterations: 2, evalEpisodes: 3,
    agent: { betaTrain: 1.5, qArchitecture: "B", policyHiddenSizes: [64, 64] },
  });
  assert.equal(changed.preset, "authors-code");
  // betaTrain 1.5 is the preset's own value on Hopper: not an override; the run length is never one
  assert.deepEqual(changed.overrides.slice().sort(), [
    "agent.iterations.act", "agent.iterations.eval", "agent.iterations.train", "agent.policyHiddenSizes", "agent.qArchitecture", "schedule.evalEpisodes",
  ]);
  assert.deepEqual(buildTrainConfig({ env: "Hopper-v2", optimizer: "direct", scale: "smoke", totalSteps: 300 }).overrides, []);
  assert.deepEqual(buildTrainConfig({ env: "Hopper-v2", optimizer: "direct", scale: "smoke", schedule: { totalSteps: 300 } }).overrides, []);
});

test("an unknown preset, or a setting that contradicts the preset without being declared, fails clearly", () => {
  assert.throws(
    () => buildTrainConfig({ env: "Hopper-v2", optimizer: "direct", scale: "smoke", preset: "papper" }),
    (e: unknown) => e instanceof ConfigError && /unknown preset "papper"; known: paper, authors-code/.test(e.message),
  );
  const c = buildTrainConfig({ env: "Walker2d-v2", optimizer: "iterative", scale: "paper" });
  assert.throws(() => validateTrainConfig({ ...c, preset: "nope" as never }), /unknown preset "nope"; known: paper, authors-code/);
  const edited = { ...c, agent: { ...c.agent, betaTrain: 1 } };
  assert.throws(
    () => validateTrainConfig(edited),
    (e: unknown) => e instanceof ConfigError && /agent\.betaTrain is 1 but preset "paper" sets 2\.5 \(Walker2d-v2, iterative, paper scale\); declare "agent\.betaTrain" in overrides/.test(e.message),
  );
  assert.equal(validateTrainConfig({ ...edited, overrides: ["agent.betaTrain"] }).agent.betaTrain, 1, "declared, it passes");
  const authors = { ...c, preset: "authors-code" as const };
  assert.throws(() => validateTrainConfig(authors), /agent\.pessimismStd is "population" but preset "authors-code" sets "unbiased"/);
  assert.throws(() => validateTrainConfig({ ...c, schedule: { ...c.schedule, evalEvery: 5000 } }), /schedule\.evalEvery is 5000 but preset "paper" sets 10000/);
  assert.throws(() => validateTrainConfig({ ...c, overrides: "agent.betaTrain" as never }), /overrides must be a list of setting names/);
  // a config that claims no preset is not checked against one
  assert.equal(validateTrainConfig({ ...edited, preset: null }).preset, null);
});

test("a run.json written before presets claims none, and keeps the options as it computed them", () => {
  const today = buildTrainConfig({ env: "Hopper-v2", optimizer: "iterative", scale: "quick" });
  const old = structuredClone(today) as unknown as Record<string, unknown>;
  delete old.preset;
  delete old.overrides;
  const agent = old.agent as Record<string, unknown>;
  for (const field of Object.keys(FIDELITY_OPTIONS_BEFORE_PRESETS)) delete agent[field];
  const migrated = migrateTrainConfig(old);
  assert.equal(migrated.preset, null);
  assert.deepEqual(migrated.overrides, []);
  assert.deepEqual(migrated.agent, { ...today.agent, ...FIDELITY_OPTIONS_BEFORE_PRESETS });
  assert.equal(validateTrainConfig(migrated), migrated);
});
