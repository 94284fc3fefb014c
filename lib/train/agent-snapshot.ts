/**
 * The agent-only snapshots a run keeps over training (`schedule.snapshotEvery`), and agents rebuilt from them:
 * networks with their targets, the policy optimizer's network and log α — no replay buffer, no Adam moments, no
 * Rng (a checkpoint has those). Analyses run on such a rebuilt agent both live and afterwards, so their rows
 * are the same either way and never touch the agent that trains.
 */
import * as path from "node:path";
import { SacAgent, type AgentSnapshot } from "../agents/sac/agent";
import { CorruptFileError } from "../core/errors";
import { Rng } from "../core/rng";
import { loadAgentSnapshot, snapshotFolder } from "../runs/agent-snapshots";
import type { TrainConfig } from "./config";

/** What one kept snapshot holds. */
export interface AgentWeights {
  format: "iapo-agent-weights-1";
  /** Environment steps the agent had been trained for. */
  step: number;
  spec: AgentSnapshot["spec"];
  /** Gradient updates the agent had done. */
  updates: number;
  networks: AgentSnapshot["networks"];
  logAlpha: number;
}

/** The agent-only part of a full agent state, as kept at `step`. */
export function agentWeights(state: AgentSnapshot, step: number): AgentWeights {
  return { format: "iapo-agent-weights-1", step, spec: state.spec, updates: state.updates, networks: state.networks, logAlpha: state.logAlpha };
}

/**
 * A new agent of the run's config holding `weights` (dispose it when done). Its Adam states are fresh and its
 * Rng is seeded from the run's seed, so two agents rebuilt from the same weights behave identically.
 */
export async function agentFromWeights(config: TrainConfig, weights: AgentWeights): Promise<SacAgent> {
  const agent = SacAgent.create(config.agent, weights.spec, new Rng(config.seed));
  try {
    const fresh = await agent.getState();
    await agent.setState({ ...fresh, updates: weights.updates, networks: weights.networks, logAlpha: weights.logAlpha });
  } catch (err) {
    agent.dispose();
    throw err;
  }
  return agent;
}

function checkWeights(value: unknown, step: number, file: string): AgentWeights {
  const w = value as Partial<AgentWeights> | null;
  const networks = w?.networks as Partial<AgentWeights["networks"]> | undefined;
  if (w?.format !== "iapo-agent-weights-1" || w.step !== step || typeof w.logAlpha !== "number" || !w.spec || !networks?.q1 || !networks.q2 || !networks.q1Target || !networks.q2Target) {
    throw new CorruptFileError(`${file}: not the agent snapshot of step ${step}`);
  }
  return w as AgentWeights;
}

/** The agent a run kept at `step`, rebuilt (dispose it when done); missing or damaged snapshots fail naming the file. */
export async function loadSnapshotAgent(runDir: string, config: TrainConfig, step: number): Promise<SacAgent> {
  const file = path.join(snapshotFolder(runDir, step), "state.json");
  const weights = checkWeights(loadAgentSnapshot(runDir, step), step, file);
  try {
    return await agentFromWeights(config, weights);
  } catch (err) {
    throw new CorruptFileError(`${file}: does not fit the run's agent: ${(err as Error).message}`);
  }
}
