/**
 * Zero-shot transfer of a learned iterative optimizer between value estimates (Sec. 4.2.5, Fig. 8d): the
 * optimizer of an agent trained with model-free values, unchanged, climbs the model-based estimate (Eq. 13) of an
 * agent trained with model-based values, and the reverse, each scored by deterministic evaluation returns beside
 * each optimizer on its own values. Only an iterative optimizer can do this: it reads the value estimate while it
 * acts, where a direct one never sees it.
 */
import { ConfigError } from "../core/errors";
import type { SacAgent } from "../agents/sac/agent";
import type { ValueEstimate } from "../agents/model-based/config";
import { agentObjective, estimatorRng } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, AnalysisValue } from "./estimator";
import { agentEvalPolicy, runEpisodes, summarizeReturns } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { intSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

export const ZERO_SHOT_TRANSFER = "zero-shot-transfer";

const SPECS: SettingSpecs = {
  /** Evaluation episodes per (optimizer, values) pair, the same seeds for all four. */
  episodes: intSetting(5, 1),
  /** Episode step limit; null: the task's own. */
  timeLimit: orAgent(intSetting(1000, 1)),
};

/** The transfer's settings with their defaults filled in (as its rows record them); bad ones fail naming the setting. */
export function zeroShotTransferSettings(user: Record<string, unknown> = {}): Record<string, AnalysisValue> {
  return resolveSettings(ZERO_SHOT_TRANSFER, SPECS, user);
}

/** The two agents of a transfer: one trained with each value estimate, on the same task. */
export interface TransferPair {
  modelFree: SacAgent;
  modelBased: SacAgent;
}

function checkPair(pair: TransferPair): void {
  for (const [name, agent, estimate] of [["modelFree", pair.modelFree, "model-free"], ["modelBased", pair.modelBased, "model-based"]] as const) {
    if (agent.optimizer.kind !== "iterative") {
      throw new ConfigError(`${ZERO_SHOT_TRANSFER}: ${name} has a ${agent.optimizer.kind} optimizer; transfer needs iterative ones (a direct optimizer never reads the value estimate while it acts)`);
    }
    if (agent.config.valueEstimate !== estimate) throw new ConfigError(`${ZERO_SHOT_TRANSFER}: ${name} must be an agent trained with ${estimate} values, got ${agent.config.valueEstimate}`);
  }
  const [a, b] = [pair.modelFree.spec, pair.modelBased.spec];
  if (a.observationSize !== b.observationSize || a.actionSize !== b.actionSize) {
    throw new ConfigError(`${ZERO_SHOT_TRANSFER}: the agents act on different tasks (obs ${a.observationSize} / ${b.observationSize}, act ${a.actionSize} / ${b.actionSize})`);
  }
}

/**
 * Rows of kind "return", one per (optimizer trained on, values optimised) with the evaluation returns' mean and
 * std: model-free values are the model-free agent's Q_pess (Eq. 12), model-based values the model-based agent's
 * Eq. 13 (its Q-networks, model and rollout policy, its α and β when acting). `transfer` marks the two swaps.
 * `context` gives the task, the step both agents were trained for and the seed of the estimator's Rng.
 */
export async function zeroShotTransfer(pair: TransferPair, context: Pick<AnalysisContext, "env" | "step" | "seed">, user: Record<string, unknown> = {}): Promise<AnalysisRow[]> {
  const settings = zeroShotTransferSettings(user);
  checkPair(pair);
  const rng = estimatorRng(context, ZERO_SHOT_TRANSFER);
  const seeds = Array.from({ length: settings.episodes as number }, () => rng.nextSeed());
  const base = rowBase(ZERO_SHOT_TRANSFER, context.step, settings);
  const agents: Record<ValueEstimate, SacAgent> = { "model-free": pair.modelFree, "model-based": pair.modelBased };
  const rows: AnalysisRow[] = [];
  for (const trainedOn of ["model-free", "model-based"] as const) {
    for (const values of ["model-free", "model-based"] as const) {
      const objective = agentObjective(agents[values], rng.fork(), { purpose: "act", samples: null, estimate: values });
      const episodes = await runEpisodes(context.env, agentEvalPolicy(agents[trainedOn], objective), { seeds, timeLimit: settings.timeLimit as number | null });
      const r = summarizeReturns(episodes);
      rows.push({ ...base, kind: "return", optimizer_trained_on: trainedOn, value_estimate: values, transfer: trainedOn !== values, return_mean: r.mean, return_std: r.std, episodes: r.episodes });
    }
  }
  return checkFiniteRows(rows);
}
