/**
 * Pendulum swing-up with gym Pendulum-v1 dynamics and reward (g = 10, m = 1, l = 1, dt = 0.05,
 * max speed 8, max torque 2, 200 steps). One difference, on purpose: the action is normalised to
 * [-1, 1] and the torque is 2·a, so tanh-squashed policies need no rescaling.
 */
import { NonFiniteError } from "../../core/errors";
import { Episode, readAction } from "../episode";
import { IDENTITY_MAT, type Scene } from "../render/scene";
import type { Env, EnvState, ResetResult, StepResult } from "../types";

export const PENDULUM = { gravity: 10, mass: 1, length: 1, dt: 0.05, maxSpeed: 8, maxTorque: 2 } as const;

/** Angle wrapped to [-π, π), as gym's angle_normalize (a floor modulo, unlike JS %). */
export function normalizeAngle(x: number): number {
  const twoPi = 2 * Math.PI;
  const y = x + Math.PI;
  return y - twoPi * Math.floor(y / twoPi) - Math.PI;
}

export class Pendulum implements Env {
  readonly name = "Pendulum-v1";
  readonly observationSize = 3;
  readonly actionSize = 1;
  readonly actionLow = Float64Array.of(-1);
  readonly actionHigh = Float64Array.of(1);
  readonly dt = PENDULUM.dt;
  readonly timeLimit: number;
  /** θ (0 = upright) and θ̇ in rad/s. */
  private theta = 0;
  private thetaDot = 0;
  private readonly action = new Float64Array(1);
  private readonly episode: Episode;

  constructor(options: { seed?: number; timeLimit?: number } = {}) {
    this.timeLimit = options.timeLimit ?? 200;
    this.episode = new Episode(this.name, this.timeLimit, options.seed ?? 0);
  }

  reset(options: { seed?: number } = {}): ResetResult {
    this.episode.begin(options.seed);
    const rng = this.episode.rng;
    this.theta = rng.uniform(-Math.PI, Math.PI);
    this.thetaDot = rng.uniform(-1, 1);
    return { observation: this.observe(), info: {} };
  }

  step(action: ArrayLike<number>): StepResult {
    this.episode.assertRunning();
    const a = readAction(this.name, action, this.action)[0];
    const { gravity: g, mass: m, length: l, dt, maxSpeed, maxTorque } = PENDULUM;
    const u = maxTorque * Math.min(1, Math.max(-1, a));
    const th = this.theta;
    const thdot = this.thetaDot;
    const angle = normalizeAngle(th);
    const rewardTerms = { angle: -(angle * angle), velocity: -0.1 * thdot * thdot, control: -0.001 * u * u };
    let newThdot = thdot + ((3 * g) / (2 * l) * Math.sin(th) + (3 / (m * l * l)) * u) * dt;
    newThdot = Math.min(maxSpeed, Math.max(-maxSpeed, newThdot));
    this.theta = th + newThdot * dt;
    this.thetaDot = newThdot;
    const truncated = this.episode.finish(false);
    return {
      observation: this.observe(),
      reward: rewardTerms.angle + rewardTerms.velocity + rewardTerms.control,
      terminated: false,
      truncated,
      info: { rewardTerms, torque: u },
    };
  }

  private observe(): Float64Array {
    return Float64Array.of(Math.cos(this.theta), Math.sin(this.theta), this.thetaDot);
  }

  getState(): EnvState {
    return this.episode.snapshot([this.theta, this.thetaDot], []);
  }

  setState(state: EnvState): void {
    this.episode.restore(state, 2, 0);
    const [th, thdot] = state.physics;
    if (!Number.isFinite(th) || !Number.isFinite(thdot)) throw new NonFiniteError(`${this.name}: state.physics must be finite`);
    this.theta = th;
    this.thetaDot = thdot;
  }

  /** Side view: pivot at the origin, θ = 0 points up. */
  scene(): Scene {
    this.episode.assertAlive();
    const s = Math.sin(this.theta);
    const c = Math.cos(this.theta);
    const l = PENDULUM.length;
    return {
      view: "side",
      geoms: [
        { shape: "capsule", pos: [(s * l) / 2, 0, (c * l) / 2], mat: [c, 0, s, 0, 1, 0, -s, 0, c], size: [0.06, l / 2], color: "rgb(204,77,77)" },
        { shape: "sphere", pos: [0, -0.1, 0], mat: IDENTITY_MAT.slice(), size: [0.05], color: "rgb(60,60,60)" },
      ],
      window: { centerX: 0, width: 2.6, bottom: -1.3, height: 2.6 },
    };
  }

  dispose(): void {
    this.episode.disposed = true;
  }
}
