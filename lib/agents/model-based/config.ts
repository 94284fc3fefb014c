/**
 * Settings of the model-based value estimate (Sec. 4.2.5, App. A.5, Tables 7-8): which estimate an agent uses,
 * the learned model's networks, the rollout horizon h, Retrace's λ, the model's pre-training and whether the
 * estimate also provides the Q-networks' targets. The values per scale are the presets' (lib/presets/).
 */
import { ConfigError } from "../../core/errors";

export const VALUE_ESTIMATES = ["model-free", "model-based"] as const;
/** "model-free": Q_ψ (Eq. 12); "model-based": Q̂ of Eq. 13 from short rollouts of a learned model. */
export type ValueEstimate = (typeof VALUE_ESTIMATES)[number];

export interface ModelBasedConfig {
  /** Rollout horizon h: model steps unrolled from (s_t, a_t) (Table 8: 2). 0 is the model-free Q. */
  horizon: number;
  /** Retrace's λ ∈ [0, 1] weighting the h temporal differences (Table 8: 0.9). */
  retraceLambda: number;
  /** Model updates on the initial random steps before training starts (A.5, Table 8: 1000). */
  pretrainUpdates: number;
  /** Hidden units of the reward and state-transition networks (Table 7: 2 x 256, Leaky ReLU, layer norm). */
  hiddenSizes: number[];
  /** Train the Q-networks towards the model-based estimate (Table 8: true) instead of the model-free target (the authors' code). */
  valueTargets: boolean;
}

/** Upper bound on h: longer rollouts only compound the model's error (and would run for minutes per update). */
export const MAX_HORIZON = 50;

/** Checks the value-estimate choice and its settings; throws ConfigError naming the bad field (prefixed `SacConfig.`). */
export function validateValueEstimate(estimate: unknown, modelBased: unknown): void {
  const fail = (field: string, want: string, got: unknown): never => {
    throw new ConfigError(`SacConfig.${field} must be ${want}, got ${JSON.stringify(got)}`);
  };
  if (!(VALUE_ESTIMATES as readonly unknown[]).includes(estimate)) fail("valueEstimate", VALUE_ESTIMATES.map((v) => JSON.stringify(v)).join(" or "), estimate);
  if (typeof modelBased !== "object" || modelBased === null) fail("modelBased", "{ horizon, retraceLambda, pretrainUpdates, hiddenSizes, valueTargets }", modelBased);
  const m = modelBased as ModelBasedConfig;
  if (!Number.isInteger(m.horizon) || m.horizon < 0 || m.horizon > MAX_HORIZON) fail("modelBased.horizon", `an integer in [0, ${MAX_HORIZON}] (model steps of the rollout)`, m.horizon);
  if (typeof m.retraceLambda !== "number" || !(m.retraceLambda >= 0 && m.retraceLambda <= 1)) fail("modelBased.retraceLambda", "a number in [0, 1]", m.retraceLambda);
  if (!Number.isInteger(m.pretrainUpdates) || m.pretrainUpdates < 0) fail("modelBased.pretrainUpdates", "an integer >= 0", m.pretrainUpdates);
  if (!Array.isArray(m.hiddenSizes) || m.hiddenSizes.length === 0 || !m.hiddenSizes.every((h) => Number.isInteger(h) && h > 0)) {
    fail("modelBased.hiddenSizes", "a non-empty list of positive integers", m.hiddenSizes);
  }
  if (typeof m.valueTargets !== "boolean") fail("modelBased.valueTargets", "a boolean", m.valueTargets);
}
