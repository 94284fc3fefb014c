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
import { loadSnapshotAgent, train } from "../../lib/train";
import { tinyModelBasedConfig } from "./model-based-config";
import type { AgentWeights } from "../../lib/train/agent-snapshot";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "iapo-mb-train-"));

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
