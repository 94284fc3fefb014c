/**
 * How the target Q-networks follow the online ones after an update (SacConfig.targetUpdate), decided once for
 * both update paths from the count of updates done before it (which the agent's snapshot keeps, so a resumed
 * run copies on the same updates):
 * - "polyak": ψ' ← (1 − τ)ψ' + τψ after every update (Table 6);
 * - "hard": ψ' ← ψ after every P-th update, unchanged in between;
 * - "polyak+hard": the authors' code's `value_update='hard'` (misc/optimizer.py): a copy after every P-th update
 *   and Polyak averaging at rate τ after every other one.
 * P = ⌊1/τ⌋ (the code's int(1/τ): 200 at τ = 5e-3), and the copies come where the code's do, after updates
 * 1, P + 1, 2P + 1, … (its step counter, from 0, is a multiple of P).
 */
import type { TargetUpdate } from "./config";

/** What the targets do after one update. */
export type TargetStep = "polyak" | "copy" | "none";

/** P = ⌊1/τ⌋ updates between hard copies (at least 1; the tiny slack keeps 1/τ = 200 − 1e-13 at 200). */
export function hardCopyPeriod(tau: number): number {
  return Math.max(1, Math.floor(1 / tau + 1e-9));
}

/** The targets' step after an update, `updatesBefore` updates having been done before it. */
export function targetStep(mode: TargetUpdate, tau: number, updatesBefore: number): TargetStep {
  if (mode === "polyak") return "polyak";
  if (updatesBefore % hardCopyPeriod(tau) === 0) return "copy";
  return mode === "hard" ? "none" : "polyak";
}
