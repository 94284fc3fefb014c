/**
 * The environment interface every task implements, shaped like gym's: `reset` then `step` until
 * `terminated` or `truncated`, plus `getState`/`setState` to continue a trajectory exactly.
 */
import type { RngState } from "../core/rng";
import type { Scene, SceneView } from "./render/scene";

export interface StepResult {
  /** Length `observationSize`; a fresh array the caller may keep. */
  observation: Float64Array;
  /** The sum of `info.rewardTerms`, added in their listed order. */
  reward: number;
  /** Task-defined end (fell over); the episode must be reset. */
  terminated: boolean;
  /** Time limit reached and not terminated; the episode must be reset. */
  truncated: boolean;
  info: { rewardTerms: Record<string, number>; [k: string]: unknown };
}

export interface ResetResult {
  observation: Float64Array;
  info: Record<string, unknown>;
}

/** Where an env is in its episode. Stepping is allowed only while "running". */
export type EpisodePhase = "needs-reset" | "running" | "terminated" | "truncated";

/**
 * Everything needed to continue a trajectory bit-for-bit: physics, episode bookkeeping and the RNG.
 * Plain numbers and arrays only, so it survives `JSON.stringify` (finite states; a diverged MuJoCo
 * state with NaN/inf does not round-trip through JSON, but does through structuredClone).
 */
export interface EnvState {
  /** The registered name of the env it came from; `setState` refuses another task's state. */
  name: string;
  phase: EpisodePhase;
  /** Steps taken in the current episode. */
  elapsedSteps: number;
  rng: RngState;
  /** Task-specific physical state, e.g. MuJoCo time, qpos, qvel, warm start and ctrl; pendulum [θ, θ̇]. */
  physics: number[];
  /** Task-specific values carried between steps that are not physics (Ant: torso x read before the step). */
  memo: number[];
}

export interface Env {
  /** Registered name, e.g. "Hopper-v2". */
  readonly name: string;
  readonly observationSize: number;
  readonly actionSize: number;
  /** Per-dimension action bounds (all MuJoCo tasks and the small tasks use [-1, 1]). */
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;
  /** Max steps per episode (1000 for the MuJoCo tasks); reaching it sets `truncated`. */
  readonly timeLimit: number;
  /** Seconds of simulated time per step. */
  readonly dt: number;
  /** Starts an episode. With a seed, reseeds the env's own Rng; without one, continues its stream. */
  reset(options?: { seed?: number }): ResetResult;
  step(action: ArrayLike<number>): StepResult;
  getState(): EnvState;
  setState(state: EnvState): void;
  /** The geoms as they are now, for `renderFrameSvg` / filmstrips; `view` overrides the task's default. */
  scene(view?: SceneView): Scene;
  /** Frees native memory (MuJoCo data); the env cannot be used afterwards. Safe to call twice. */
  dispose(): void;
}

/** Options accepted by `makeEnv`. Options a task does not know are refused with a ConfigError. */
export interface EnvOptions {
  /** Seed of the env's Rng before the first `reset({seed})` (default 0). */
  seed?: number;
  /** Overrides the episode step limit (a positive integer). */
  timeLimit?: number;
  /**
   * Ant-v2 only. "zero" (default): the contact cost is 0, as under mujoco-py 2.0 which the paper used
   * (cfrc_ext was never computed). "computed": 5e-4·Σclip(cfrc_ext, ±1)² after mj_rnePostConstraint.
   */
  contactCost?: "zero" | "computed";
}
