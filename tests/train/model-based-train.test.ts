/**
 * Model-based runs end to end on Pendulum: the model's pre-training is logged once when updates start, a run
 * interrupted and resumed logs exactly the rows of the uninterrupted one (the model, the rollout policy and their
 * Adam states are in the checkpoint), and the kept snapshots rebuild an agent with the run's model.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { loadRun, listSnapshots, loadAgentSnapshot, type MetricRow } from "../../lib/runs";
import { buildTrainConfig, loadSnapshotAgent, train, type TrainConfig } from "../../lib/train";
import type { AgentWeights } from "../../lib/train/agent-snapshot";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "iapo-mb-train-"));

/**
 * A tiny model-based run: random phase, pre-training, updates, checkpoints, snapshots; the direct one with two
 * evaluations. The iterative one is shorter, with one iteration and no evaluation: on the tfjs path every one of
 * its acts and updates runs the rollout with gradients (about 0.2 and 0.5 s each on a loaded 2-core machine).
 */
export function tinyModelBasedConfig(optimizer: "direct" | "iterative"): TrainConfig {
  const iterative = optimizer === "iterative";
  const c = buildTrainConfig({
    env: "Pendulum-v1", optimizer, seed: 7, scale: "smoke", totalSteps: iterative ? 80 : 160, evalEvery: 80, evalEpisodes: iterative ? 0 : 1,
    agent: { valueEstimate: "model-based" }, modelBased: { hiddenSizes: [16, 16], pretrainUpdates: 20 },
  });
  c.schedule.initialRandomSteps = 40;
  c.schedule.logEvery = 10;
  c.schedule.checkpointEvery = iterative ? 20 : 40;
  c.schedule.snapshotEvery = iterative ? 40 : 80;
  c.agent.batchSize = 16;
  c.agent.policyHiddenSizes = [16, 16];
  c.agent.iterations = iterative ? { train: 1, act: 1, eval: 1 } : { train: 2, act: 2, eval: 2 };
  c.agent.samples = 2;
  return c;
}

const comparable = (rows: MetricRow[]): MetricRow[] => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))) as MetricRow);

test("a model-based run interrupted and resumed logs exactly the rows of the uninterrupted run", { timeout: 10 * 60_000 }, async () => {
  await initBackend();
  for (const optimizer of ["direct", "iterative"] as const) {
    const config = tinyModelBasedConfig(optimizer);
    assert.equal(config.agent.modelBased.horizon, 2);
    const whole = path.join(tmp(), "whole");
    assert.equal((await train(config, { runDir: whole })).outcome, "finished");
    const split = path.join(tmp(), "split");
    // stops after the pre-training (step 40) and between checkpoints: the resumed run must not pre-train again
    assert.equal((await train(config, { runDir: split, stopAt: optimizer === "iterative" ? 50 : 90 })).outcome, "interrupted");
    assert.equal((await train(config, { runDir: split, ifExists: "resume" })).outcome, "finished");

    const a = loadRun(whole), b = loadRun(split);
    const pretrainRows = a.metrics.filter((m) => "train/model_pretrain_state_nll" in m);
    assert.equal(pretrainRows.length, 1, "pre-training is logged once");
    assert.equal(pretrainRows[0].step, 40, "when updates start");
    for (const key of ["train/model_state_nll", "train/model_reward_nll", "train/q1_loss", ...(optimizer === "iterative" ? ["train/rollout_kl"] : [])]) {
      assert.ok(a.metrics.some((m) => Number.isFinite(m[key])), `${optimizer}: ${key} logged`);
    }
    if (optimizer === "direct") assert.ok(a.metrics.some((m) => typeof m["eval/return_mean"] === "number"), "evaluations logged");
    assert.deepEqual(comparable(b.metrics), comparable(a.metrics), `${optimizer}: resumed metrics differ`);

    // the kept snapshots hold the model (and the distilled rollout policy) and rebuild a model-based agent
    const end = config.schedule.totalSteps;
    assert.deepEqual(listSnapshots(whole), [end / 2, end]);
    const kept = loadAgentSnapshot<AgentWeights>(whole, end);
    assert.ok(kept.networks.model, "the model's weights are in the snapshot");
    assert.equal(kept.networks.rollout !== undefined, optimizer === "iterative");
    const agent = await loadSnapshotAgent(whole, config, end);
    assert.deepEqual(agent.model?.model.params.toData(), kept.networks.model);
    agent.dispose();
  }
});
