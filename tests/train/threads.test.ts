/**
 * The thread tuner inside the training loop: switching the native threads between updates changes no logged value.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend/select";
import { nativeForTests } from "../backend/native-available";
import { ThreadTuner } from "../../lib/backend/thread-tuner";
import { SacAgent } from "../../lib/agents/sac/agent";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { Rng } from "../../lib/core/rng";
import type { MetricRow } from "../../lib/runs";
import { buildTrainConfig, initialLoop, runLoop } from "../../lib/train";
import { makeEnv } from "../../lib/envs";

const { native, skip } = nativeForTests();

/** Trains 260 Pendulum steps (60 updates of batch 128: the Q passes' 256 rows are split across threads). */
async function run(threads: (addon: { setThreads(n: number): void }) => ThreadTuner | null): Promise<{ rows: MetricRow[]; tuner: ThreadTuner | null }> {
  await initBackend();
  if (!native.ok) throw new Error("unreachable");
  const config = buildTrainConfig({ env: "Pendulum-v1", optimizer: "direct", seed: 3, scale: "smoke", totalSteps: 260, evalEvery: 260, evalEpisodes: 0 });
  const a = { ...config.agent, batchSize: 128, policyHiddenSizes: [32, 32] };
  const env = await makeEnv(config.env);
  const evalEnv = await makeEnv(config.env);
  const agent = SacAgent.create(a, { observationSize: env.observationSize, actionSize: env.actionSize }, new Rng(3));
  assert.equal(agent.updatePath().path, "fused", "the native fused update runs");
  const buffer = new ReplayBuffer(300, env.observationSize, env.actionSize);
  const rows: MetricRow[] = [];
  const tuner = threads(native.addon);
  try {
    await runLoop(
      { seed: 3, totalSteps: 260, initialRandomSteps: 200, batchSize: 128, updatesPerStep: 1, evalEvery: 260, evalEpisodes: 0, logEvery: 20, checkpointEvery: 260 },
      env, agent, buffer, initialLoop(3, env),
      { label: "t", evalEnv, log: (r) => rows.push(r), checkpoint: () => undefined, threads: tuner },
    );
  } finally {
    tuner?.finish();
    agent.dispose();
    env.dispose();
    evalEnv.dispose();
  }
  return { rows, tuner };
}

test("a run whose native threads switch between updates logs exactly the rows of a one-thread run", { skip, timeout: 5 * 60_000 }, async () => {
  if (!native.ok) return;
  const before = native.addon.blasInfo().threads;
  native.addon.setThreads(1);
  const fixed = await run(() => null);
  // A fake clock on which every probe wins: the tuner switches at every probe, every 4 updates.
  let tuner: ThreadTuner | null = null;
  let clock = 0;
  const now = (): number => (clock += tuner && tuner.threads !== tuner.stats().threads ? 1 : 10);
  const flipping = await run((addon) => (tuner = new ThreadTuner(addon, 2, { minInterval: 2, maxInterval: 2, probeLength: 1, window: 2 }, now)));
  native.addon.setThreads(before);
  assert.ok((flipping.tuner?.stats().switches ?? 0) >= 10, `switched ${flipping.tuner?.stats().switches} times`);
  const withoutTime = (rows: MetricRow[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))));
  assert.ok(fixed.rows.some((r) => typeof r["train/q1_loss"] === "number"), "train rows logged");
  assert.deepEqual(withoutTime(flipping.rows), withoutTime(fixed.rows));
  assert.ok(flipping.rows.every((r) => r["time/threads"] === 1 || r["time/threads"] === 2 || !("train/updates" in r)), "rows say the thread count");
});
