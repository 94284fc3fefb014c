/**
 * A sweep's cost before it starts: each run's remaining time from its schedule and measured speeds, by hand; the
 * speed cache answers without measuring for a setting it holds, measures what it lacks, and survives a corrupt file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildTrainConfig } from "../../lib/train";
import { estimateRunCost, measuredSpeeds, speedKey } from "../../lib/sweeps/cost";

const config = buildTrainConfig({
  env: "Pendulum-v1", optimizer: "direct", scale: "smoke", totalSteps: 1000,
  schedule: { initialRandomSteps: 200, evalEvery: 300, evalEpisodes: 2 },
});
const speed = { learningStepsPerSecond: 10, randomStepsPerSecond: 100, evalStepsPerSecond: 50, episodeLimit: 100, timedSteps: 20 };

test("a run's remaining cost: random steps, learning steps, and evaluations of at most the episode limit", () => {
  // 200 random steps at 100/s, 800 learning steps at 10/s, evaluations at 300, 600, 900 and the end: 4 x 2 x 100 steps at 50/s
  assert.deepEqual(estimateRunCost(config, speed), { stepsLeft: 1000, randomSeconds: 2, learningSeconds: 80, evalSecondsAtMost: 16, seconds: 98 });
  // resumed at 450: 550 learning steps, evaluations at 600, 900 and 1000
  assert.deepEqual(estimateRunCost(config, speed, 450), { stepsLeft: 550, randomSeconds: 0, learningSeconds: 55, evalSecondsAtMost: 12, seconds: 67 });
  // resumed at 150, inside the random phase; evaluations at 300, 600, 900, 1000
  assert.deepEqual(estimateRunCost(config, speed, 150), { stepsLeft: 850, randomSeconds: 0.5, learningSeconds: 80, evalSecondsAtMost: 16, seconds: 96.5 });
  assert.equal(estimateRunCost(config, speed, 1000).seconds, 0);
});

test("the speed cache answers for the settings it holds, measures the others, and replaces a corrupt file", { timeout: 5 * 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cost-"));
  const file = path.join(dir, "speed.json");
  const key = speedKey(config);
  const held = { machine: "m", measuredAt: "2026-01-01T00:00:00Z", env: config.env, optimizer: "direct", qArchitecture: "A", samples: 1, speed };
  fs.writeFileSync(file, JSON.stringify({ version: 1, records: { [key]: held } }));
  let probes = 0;
  const cached = await measuredSpeeds([config, { ...config, seed: 3 }], file, { onProbe: () => probes++ });
  assert.equal(probes, 0, "the seed does not change the speed: both runs share the held figure");
  assert.deepEqual(cached.get(key), held);

  const other = buildTrainConfig({ env: "Pendulum-v1", optimizer: "iterative", scale: "smoke", totalSteps: 1000 });
  assert.notEqual(speedKey(other), key);
  fs.writeFileSync(file, "{ not json");
  const warnings: string[] = [];
  const measured = await measuredSpeeds([other], file, { probe: { timedSteps: 10, warmSteps: 5 }, onProbe: () => probes++, warn: (w) => warnings.push(w) });
  assert.equal(probes, 1);
  assert.match(warnings.join("\n"), /ignoring the speed cache .*speed\.json .*; measuring again/);
  const record = measured.get(speedKey(other))!;
  assert.equal(record.optimizer, "iterative");
  for (const v of [record.speed.learningStepsPerSecond, record.speed.randomStepsPerSecond, record.speed.evalStepsPerSecond]) assert.ok(Number.isFinite(v) && v > 0, String(v));
  assert.ok(record.speed.randomStepsPerSecond > record.speed.learningStepsPerSecond, "random steps skip the update");
  assert.equal(record.speed.episodeLimit, 200, "Pendulum's time limit");
  const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { records: Record<string, unknown> };
  assert.deepEqual(Object.keys(saved.records), [speedKey(other)]);
});
