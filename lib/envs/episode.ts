/**
 * Checks and bookkeeping every env shares: validating actions and saved states, and the episode
 * phase machine (needs-reset → running → terminated | truncated → reset ...).
 */
import { NonFiniteError } from "../core/errors";
import { Rng, type RngState } from "../core/rng";
import { ActionError, EnvPhaseError, EnvStateError } from "./errors";
import type { EnvState, EpisodePhase } from "./types";

/** Copies `action` into `out`, refusing a wrong length or any NaN/inf entry. Returns `out`. */
export function readAction(envName: string, action: ArrayLike<number>, out: Float64Array): Float64Array {
  if (action === null || typeof action !== "object" || typeof action.length !== "number") {
    throw new ActionError(`${envName}: action must be an array of ${out.length} numbers, got ${String(action)}`);
  }
  if (action.length !== out.length) {
    throw new ActionError(`${envName}: action has length ${action.length}, expected ${out.length}`);
  }
  for (let i = 0; i < out.length; i++) {
    const a = action[i];
    if (typeof a !== "number" || !Number.isFinite(a)) {
      throw new NonFiniteError(`${envName}: action[${i}] is ${String(a)}; every entry must be a finite number`);
    }
    out[i] = a;
  }
  return out;
}

/** The episode counter and phase, plus the env's own Rng. */
export class Episode {
  phase: EpisodePhase = "needs-reset";
  elapsedSteps = 0;
  disposed = false;
  rng: Rng;

  constructor(
    readonly envName: string,
    readonly timeLimit: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  /** Called by reset(): reseeds if asked, and starts a new episode. */
  begin(seed: number | undefined): void {
    this.assertAlive();
    if (seed !== undefined) this.rng = new Rng(seed);
    this.phase = "running";
    this.elapsedSteps = 0;
  }

  assertAlive(): void {
    if (this.disposed) throw new EnvPhaseError(`${this.envName}: the env was disposed`);
  }

  /** Called at the start of step(). */
  assertRunning(): void {
    this.assertAlive();
    if (this.phase === "running") return;
    const why =
      this.phase === "needs-reset" ? "before the first reset()" : `after the episode ended (${this.phase})`;
    throw new EnvPhaseError(`${this.envName}: step() called ${why}; call reset() first`);
  }

  /** Called at the end of step(): counts the step and returns whether the time limit truncates it. */
  finish(terminated: boolean): boolean {
    this.elapsedSteps += 1;
    const truncated = !terminated && this.elapsedSteps >= this.timeLimit;
    this.phase = terminated ? "terminated" : truncated ? "truncated" : "running";
    return truncated;
  }

  snapshot(physics: number[], memo: number[]): EnvState {
    this.assertAlive();
    return { name: this.envName, phase: this.phase, elapsedSteps: this.elapsedSteps, rng: this.rng.getState(), physics, memo };
  }

  /** Checks a saved state's shape and restores the bookkeeping part; the caller restores physics. */
  restore(state: EnvState, physicsLength: number, memoLength: number): void {
    this.assertAlive();
    if (state === null || typeof state !== "object") throw new EnvStateError(`${this.envName}: setState needs a state object`);
    if (state.name !== this.envName) {
      throw new EnvStateError(`${this.envName}: cannot restore a state saved from "${String(state.name)}"`);
    }
    const phases: EpisodePhase[] = ["needs-reset", "running", "terminated", "truncated"];
    if (!phases.includes(state.phase)) throw new EnvStateError(`${this.envName}: unknown phase "${String(state.phase)}"`);
    if (!Number.isInteger(state.elapsedSteps) || state.elapsedSteps < 0) {
      throw new EnvStateError(`${this.envName}: elapsedSteps must be a non-negative integer, got ${state.elapsedSteps}`);
    }
    checkNumbers(this.envName, "physics", state.physics, physicsLength);
    checkNumbers(this.envName, "memo", state.memo, memoLength);
    let rng: Rng;
    try {
      rng = Rng.fromState(state.rng as RngState);
    } catch (e) {
      throw new EnvStateError(`${this.envName}: bad rng state (${(e as Error).message})`);
    }
    this.rng = rng;
    this.phase = state.phase;
    this.elapsedSteps = state.elapsedSteps;
  }
}

function checkNumbers(envName: string, field: string, xs: unknown, length: number): void {
  if (!Array.isArray(xs) || xs.length !== length || xs.some((x) => typeof x !== "number")) {
    throw new EnvStateError(`${envName}: state.${field} must be ${length} numbers`);
  }
}
