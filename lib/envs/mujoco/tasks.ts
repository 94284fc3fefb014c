/**
 * The four locomotion tasks as data: gym v2-era observation, reward, termination and reset noise,
 * exactly as tabulated in shared/reference/mujoco-tasks.md. `MujocoEnv` is the one implementation.
 */
import type { SceneView } from "../render/scene";

export interface MujocoTaskSpec {
  name: string;
  /** MJCF file in lib/envs/mujoco/models. */
  modelFile: string;
  /** Physics steps per env step; dt = timestep · frameSkip. */
  frameSkip: number;
  /** Observation = qpos[obsQposStart:] followed by qvel, clipped to ±qvelClip if set. */
  obsQposStart: number;
  qvelClip: number | null;
  /** Forward progress read from qpos[0] (planar rootx) or the torso body's xpos x (Ant). */
  forward: "rootx" | "torso-xpos";
  /** Control cost = controlWeight · Σ a² over the raw action. */
  controlWeight: number;
  /** Paid every step, the terminating one included (gym v2); 0 = no healthy term. */
  healthyReward: number;
  /** Ant only: weight of Σ clip(cfrc_ext, ±1)² when the contact cost is computed. */
  contactWeight: number;
  /** Reset: qpos += U(±qposUniform); qvel += U(±scale) or scale·N(0, 1). */
  resetNoise: { qposUniform: number; qvel: "uniform" | "normal"; qvelScale: number };
  /** Whether the episode goes on, given the state after the step; null = never terminates. */
  isHealthy: ((qpos: Float64Array, qvel: Float64Array) => boolean) | null;
  render: { view: SceneView; width: number; bottom: number; height: number };
}

function allFinite(xs: Float64Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}

/** gym v2 Hopper: finite, |state[2:]| < 100, height > 0.7, |angle| < 0.2. */
function hopperHealthy(qpos: Float64Array, qvel: Float64Array): boolean {
  if (!allFinite(qpos) || !allFinite(qvel)) return false;
  for (let i = 2; i < qpos.length; i++) if (!(Math.abs(qpos[i]) < 100)) return false;
  for (let i = 0; i < qvel.length; i++) if (!(Math.abs(qvel[i]) < 100)) return false;
  return qpos[1] > 0.7 && Math.abs(qpos[2]) < 0.2;
}

/** gym v2 Walker2d: 0.8 < height < 2.0 and -1 < angle < 1 (no finiteness check in v2). */
function walkerHealthy(qpos: Float64Array): boolean {
  return qpos[1] > 0.8 && qpos[1] < 2.0 && qpos[2] > -1.0 && qpos[2] < 1.0;
}

/** gym v2 Ant: the state is finite and 0.2 <= torso z <= 1.0. */
function antHealthy(qpos: Float64Array, qvel: Float64Array): boolean {
  return allFinite(qpos) && allFinite(qvel) && qpos[2] >= 0.2 && qpos[2] <= 1.0;
}

export const MUJOCO_TASKS: Readonly<Record<string, MujocoTaskSpec>> = {
  "Hopper-v2": {
    name: "Hopper-v2",
    modelFile: "hopper.xml",
    frameSkip: 4,
    obsQposStart: 1,
    qvelClip: 10,
    forward: "rootx",
    controlWeight: 1e-3,
    healthyReward: 1,
    contactWeight: 0,
    resetNoise: { qposUniform: 5e-3, qvel: "uniform", qvelScale: 5e-3 },
    isHealthy: hopperHealthy,
    render: { view: "side", width: 3, bottom: -0.25, height: 1.85 },
  },
  "Walker2d-v2": {
    name: "Walker2d-v2",
    modelFile: "walker2d.xml",
    frameSkip: 4,
    obsQposStart: 1,
    qvelClip: 10,
    forward: "rootx",
    controlWeight: 1e-3,
    healthyReward: 1,
    contactWeight: 0,
    resetNoise: { qposUniform: 5e-3, qvel: "uniform", qvelScale: 5e-3 },
    isHealthy: walkerHealthy,
    render: { view: "side", width: 3, bottom: -0.25, height: 1.85 },
  },
  "HalfCheetah-v2": {
    name: "HalfCheetah-v2",
    modelFile: "half_cheetah.xml",
    frameSkip: 5,
    obsQposStart: 1,
    qvelClip: null,
    forward: "rootx",
    controlWeight: 0.1,
    healthyReward: 0,
    contactWeight: 0,
    resetNoise: { qposUniform: 0.1, qvel: "normal", qvelScale: 0.1 },
    isHealthy: null,
    render: { view: "side", width: 3, bottom: -0.25, height: 1.25 },
  },
  "Ant-v2": {
    name: "Ant-v2",
    modelFile: "ant.xml",
    frameSkip: 5,
    obsQposStart: 2,
    qvelClip: null,
    forward: "torso-xpos",
    controlWeight: 0.5,
    healthyReward: 1,
    contactWeight: 5e-4,
    resetNoise: { qposUniform: 0.1, qvel: "normal", qvelScale: 0.1 },
    isHealthy: antHealthy,
    render: { view: "side", width: 3, bottom: -0.25, height: 1.5 },
  },
};
