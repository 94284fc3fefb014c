import type { Env } from "./types";

/**
 * Maps an action in [-1, 1]^|A| (what tanh-squashed policies output) to the env's own bounds. Every task here
 * uses [-1, 1] already, so this is the identity for them; it keeps agents correct on any bounds.
 */
export function toEnvAction(action: ArrayLike<number>, env: Pick<Env, "actionLow" | "actionHigh">): Float64Array {
  const out = new Float64Array(action.length);
  for (let i = 0; i < action.length; i++) out[i] = env.actionLow[i] + ((action[i] + 1) / 2) * (env.actionHigh[i] - env.actionLow[i]);
  return out;
}
