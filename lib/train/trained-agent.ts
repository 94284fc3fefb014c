/**
 * Trained agents back from their run folders, and policies that act in an env's own action units: what the
 * analyses (amortization gap, value bias, landscapes) and the rollout filmstrips start from.
 */
import * as path from "node:path";
import { SacAgent } from "../agents/sac/agent";
import type { ReplayBufferSnapshot } from "../agents/replay-buffer";
import type { AgentSnapshot } from "../agents/sac/state";
import { initBackend } from "../backend/select";
import { IapoError } from "../core/errors";
import { Rng } from "../core/rng";
import { toEnvAction } from "../envs/actions";
import type { Env } from "../envs/types";
import { loadRun, readLatestCheckpoint, type Run } from "../runs/run-dir";
import { migrateTrainConfig, type TrainConfig } from "./config";
import type { LoopCheckpoint } from "./loop";

export interface TrainedAgent {
  agent: SacAgent;
  config: TrainConfig;
  /** The environment step of the checkpoint the agent comes from. */
  step: number;
}

/** A training run loaded with its config in today's shape (runs of earlier shapes are migrated on read). */
export function loadTrainRun(runDir: string): Run<TrainConfig> {
  const run = loadRun<unknown>(runDir);
  return { ...run, config: migrateTrainConfig(run.config, path.join(runDir, "run.json")) };
}

/** Restores the agent of a run's newest checkpoint (dispose it when done). */
export async function loadTrainedAgent(runDir: string): Promise<TrainedAgent> {
  await initBackend();
  const run = loadTrainRun(runDir);
  const checkpoint = readLatestCheckpoint<LoopCheckpoint<ReplayBufferSnapshot, AgentSnapshot>>(runDir);
  if (!checkpoint) throw new IapoError(`${runDir} has no checkpoint yet: nothing to load`);
  const snap = checkpoint.state.agent;
  const agent = SacAgent.create(run.config.agent, snap.spec, new Rng(run.config.seed));
  try {
    await agent.setState(snap);
  } catch (err) {
    agent.dispose();
    throw err;
  }
  return { agent, config: run.config, step: checkpoint.step };
}

/** The agent as a policy for `env`: observation in, action in the env's units out ("eval": tanh μ). */
export function agentPolicy(agent: Pick<SacAgent, "act">, env: Env, mode: "explore" | "eval" = "eval"): (observation: Float64Array) => Float64Array {
  return (observation) => toEnvAction(agent.act(observation, mode), env);
}
