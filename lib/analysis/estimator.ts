/**
 * The contract between the paper's estimators (amortization gap, value bias, policy change, multiple estimates,
 * landscapes, optimizer comparison, test-time optimization) and whatever runs them: the training loop's analysis
 * hook on the live agent, and `iapo analyze` on the snapshots a run kept. Both hand an estimator the same context
 * and write the rows it returns unchanged, so live and after-the-fact results are interchangeable.
 */
import type { SacAgent } from "../agents/sac/agent";

/** A plain value a tidy row may hold (what JSON, danfojs and pandas all read). */
export type AnalysisValue = number | string | boolean | null;

/**
 * One tidy row: one estimator at one training step (and, where the estimator reports several things, one
 * quantity, iteration or state per row). `settings` are the estimator's resolved settings, so rows computed with
 * different settings are never mixed up.
 */
export interface AnalysisRow {
  /** The estimator's registered name, e.g. "amortization-gap". */
  estimator: string;
  /** Environment steps the analysed agent had been trained for. */
  step: number;
  settings: Record<string, AnalysisValue>;
  [field: string]: AnalysisValue | Record<string, AnalysisValue>;
}

/** What an estimator is given. */
export interface AnalysisContext {
  /** The agent as it was at `step` (live during training, or restored from a snapshot). Read-only to estimators. */
  agent: SacAgent;
  /** Registered task name, e.g. "Hopper-v2" (estimators that roll out episodes make their own envs). */
  env: string;
  /** Environment steps the agent had been trained for. */
  step: number;
  /** The run's seed. An estimator seeds its own Rng from (seed, step, its name), never the agent's or the loop's. */
  seed: number;
  /** The run folder, where an estimator may keep fixed inputs reused at every step (value bias's state–action pairs). */
  runDir: string | null;
}

/** An estimator with its settings bound. Running it must not change the agent or any Rng but its own. */
export interface Estimator {
  readonly name: string;
  readonly settings: Record<string, AnalysisValue>;
  run(context: AnalysisContext): Promise<AnalysisRow[]>;
}
