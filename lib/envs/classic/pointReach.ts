/**
 * PointReach-v0: a point in the square [-1, 1]² moves towards a random target. No physics engine,
 * and a known optimal policy (`pointReachOptimalAction`), which makes it a check that learning works.
 *
 * State p, target g (both uniform in the square at reset). Action a ∈ [-1, 1]² (clipped) moves the
 * point by STEP·a, then p is clipped to the square. Reward = -‖p' − g‖. Observation [p, g − p].
 * 50 steps, never terminates. Moving each coordinate as far as possible towards the target minimises
 * every future distance at once, so the greedy clipped action is optimal.
 */
import { NonFiniteError } from "../../core/errors";
import { Episode, readAction } from "../episode";
import { IDENTITY_MAT, type Scene } from "../render/scene";
import type { Env, EnvState, ResetResult, StepResult } from "../types";

/** Largest move per step along each axis. */
export const POINT_REACH_STEP = 0.1;

const clip1 = (x: number): number => Math.min(1, Math.max(-1, x));

/** The optimal action from an observation [p, g − p]: each coordinate at full speed towards the target. */
export function pointReachOptimalAction(observation: ArrayLike<number>): Float64Array {
  return Float64Array.of(clip1(observation[2] / POINT_REACH_STEP), clip1(observation[3] / POINT_REACH_STEP));
}

export class PointReach implements Env {
  readonly name = "PointReach-v0";
  readonly observationSize = 4;
  readonly actionSize = 2;
  readonly actionLow = Float64Array.of(-1, -1);
  readonly actionHigh = Float64Array.of(1, 1);
  readonly dt = 0.1;
  readonly timeLimit: number;
  private readonly p = new Float64Array(2);
  private readonly g = new Float64Array(2);
  private readonly action = new Float64Array(2);
  private readonly episode: Episode;

  constructor(options: { seed?: number; timeLimit?: number } = {}) {
    this.timeLimit = options.timeLimit ?? 50;
    this.episode = new Episode(this.name, this.timeLimit, options.seed ?? 0);
  }

  reset(options: { seed?: number } = {}): ResetResult {
    this.episode.begin(options.seed);
    const rng = this.episode.rng;
    rng.fillUniform(this.p, -1, 1);
    rng.fillUniform(this.g, -1, 1);
    return { observation: this.observe(), info: {} };
  }

  step(action: ArrayLike<number>): StepResult {
    this.episode.assertRunning();
    const a = readAction(this.name, action, this.action);
    for (let i = 0; i < 2; i++) this.p[i] = clip1(this.p[i] + POINT_REACH_STEP * clip1(a[i]));
    const distance = Math.hypot(this.g[0] - this.p[0], this.g[1] - this.p[1]);
    const truncated = this.episode.finish(false);
    return { observation: this.observe(), reward: -distance, terminated: false, truncated, info: { rewardTerms: { distance: -distance } } };
  }

  private observe(): Float64Array {
    return Float64Array.of(this.p[0], this.p[1], this.g[0] - this.p[0], this.g[1] - this.p[1]);
  }

  getState(): EnvState {
    return this.episode.snapshot([this.p[0], this.p[1], this.g[0], this.g[1]], []);
  }

  setState(state: EnvState): void {
    this.episode.restore(state, 4, 0);
    if (!state.physics.every(Number.isFinite)) throw new NonFiniteError(`${this.name}: state.physics must be finite`);
    this.p.set(state.physics.slice(0, 2));
    this.g.set(state.physics.slice(2, 4));
  }

  /** Top view of the square: the point (blue) and the target (red). */
  scene(): Scene {
    this.episode.assertAlive();
    const I = (): number[] => IDENTITY_MAT.slice();
    return {
      view: "top",
      geoms: [
        { shape: "plane", pos: [0, 0, 0], mat: I(), size: [1, 1], color: "rgb(235,240,235)" },
        { shape: "sphere", pos: [this.g[0], this.g[1], 0], mat: I(), size: [0.07], color: "rgb(214,69,65)" },
        { shape: "sphere", pos: [this.p[0], this.p[1], 0.01], mat: I(), size: [0.05], color: "rgb(52,101,164)" },
      ],
      window: { centerX: 0, width: 2.4, bottom: -1.2, height: 2.4 },
      groundTicks: true,
    };
  }

  dispose(): void {
    this.episode.disposed = true;
  }
}
