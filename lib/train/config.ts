/**
 * A training run's full configuration: task, optimizer, seed, how often to log and checkpoint, and the agent's
 * hyperparameters (`SacConfig`, which also holds the run length and evaluation schedule of each scale preset).
 * Written first into every run folder, so a run can always be reproduced from its run.json.
 */
import { ConfigError } from "../core/errors";
import type { Scale } from "../core/scale";
import { defaultSacConfig, validateSacConfig, type SacConfig } from "../agents/sac/config";

export type AmortizedOptimizerKind = "direct" | "iterative";
export const AMORTIZED_OPTIMIZERS: readonly AmortizedOptimizerKind[] = ["direct", "iterative"];

export interface TrainConfig {
  /** Registered environment name, e.g. "Hopper-v2" or "Pendulum-v1". */
  env: string;
  /** The policy optimizer trained inside SAC (also `agent.optimizer`). */
  optimizer: AmortizedOptimizerKind;
  /** Seeds everything: network init, the env, action noise, replay sampling, evaluation episodes. */
  seed: number;
  /** The scale preset the config came from (recorded for the reader). */
  scale: Scale;
  /** Write a row of train metrics (means since the last row) every this many steps. */
  logEvery: number;
  /** Checkpoint every this many steps (and at the end, and on Ctrl-C). */
  checkpointEvery: number;
  /** SAC and policy-optimizer hyperparameters (Tables 2-6, A.4), including totalSteps and the eval schedule. */
  agent: SacConfig;
}

/** Agent fields to change from the paper's defaults, e.g. { betaTrain: 2.5, qArchitecture: "B" }. */
export type AgentOverrides = Record<string, unknown>;

export interface TrainConfigRequest {
  env: string;
  optimizer: string;
  seed?: number;
  scale: Scale;
  /** Overrides the scale preset's run length. */
  totalSteps?: number;
  /** Iterations of the iterative optimizer, for training and acting alike. */
  iterations?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  agent?: AgentOverrides;
}

/** How often to log and checkpoint at each scale. */
const LOGGING: Record<Scale, { logEvery: number; checkpointEvery: number }> = {
  smoke: { logEvery: 50, checkpointEvery: 300 },
  quick: { logEvery: 250, checkpointEvery: 5_000 },
  paper: { logEvery: 1_000, checkpointEvery: 50_000 },
};

/**
 * The full config for a run: the paper's agent for (env, optimizer) at the scale, then the request's changes.
 * Unknown agent fields and bad values fail with a ConfigError naming them.
 */
export function buildTrainConfig(req: TrainConfigRequest): TrainConfig {
  if (!(AMORTIZED_OPTIMIZERS as readonly string[]).includes(req.optimizer)) {
    throw new ConfigError(`optimizer must be one of ${AMORTIZED_OPTIMIZERS.join(", ")}, got ${JSON.stringify(req.optimizer)}`);
  }
  const optimizer = req.optimizer as AmortizedOptimizerKind;
  const agent: SacConfig = defaultSacConfig(req.env, optimizer, req.scale);
  const known = Object.keys(agent);
  for (const [field, value] of Object.entries(req.agent ?? {})) {
    if (!known.includes(field)) throw new ConfigError(`unknown agent setting "${field}"; known: ${known.join(", ")}`);
    if (field === "optimizer") throw new ConfigError(`set the optimizer with the top-level "optimizer", not as an agent setting`);
    (agent as unknown as Record<string, unknown>)[field] = value;
  }
  if (req.totalSteps !== undefined) {
    agent.totalSteps = req.totalSteps;
    // a short run still needs steps after the random phase: keep the random phase to at most a fifth of it
    agent.initialRandomSteps = Math.min(agent.initialRandomSteps, Math.floor(req.totalSteps / 5));
    agent.evalEvery = Math.min(agent.evalEvery, req.totalSteps);
  }
  if (req.iterations !== undefined) agent.iterations = { train: req.iterations, act: req.iterations };
  if (req.evalEvery !== undefined) agent.evalEvery = req.evalEvery;
  if (req.evalEpisodes !== undefined) agent.evalEpisodes = req.evalEpisodes;
  const logging = LOGGING[req.scale];
  const config: TrainConfig = {
    env: req.env,
    optimizer,
    seed: req.seed ?? 0,
    scale: req.scale,
    logEvery: Math.min(logging.logEvery, agent.totalSteps),
    checkpointEvery: Math.min(logging.checkpointEvery, agent.totalSteps),
    agent,
  };
  return validateTrainConfig(config);
}

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
}

/** Checks every field (the agent's with its own validator); throws ConfigError naming the bad one. */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  if (typeof c.env !== "string" || c.env === "") throw new ConfigError(`env must be a task name, got ${JSON.stringify(c.env)}`);
  if (!(AMORTIZED_OPTIMIZERS as readonly string[]).includes(c.optimizer)) {
    throw new ConfigError(`optimizer must be one of ${AMORTIZED_OPTIMIZERS.join(", ")}, got ${JSON.stringify(c.optimizer)}`);
  }
  if (c.agent.optimizer !== c.optimizer) throw new ConfigError(`agent.optimizer (${c.agent.optimizer}) differs from optimizer (${c.optimizer})`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new ConfigError(`seed must be a non-negative integer, got ${JSON.stringify(c.seed)}`);
  positiveInt("logEvery", c.logEvery);
  positiveInt("checkpointEvery", c.checkpointEvery);
  validateSacConfig(c.agent);
  return c;
}
