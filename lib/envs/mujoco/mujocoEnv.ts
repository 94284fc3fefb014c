/**
 * One implementation of a gym v2-style MuJoCo env, driven by a `MujocoTaskSpec`: frame skip, reward
 * terms, termination, reset noise, exact state capture, and a scene for rendering.
 */
import type { MainModule, MjData, MjModel } from "mujoco-js";
import { Episode, readAction } from "../episode";
import { MJ_GEOM_SHAPES, cssColor, type SceneGeom, type Scene, type SceneView } from "../render/scene";
import type { Env, EnvState, ResetResult, StepResult } from "../types";
import { acquireModel, releaseModel } from "./runtime";
import type { MujocoTaskSpec } from "./tasks";
import { ViewCache } from "./views";

export interface MujocoEnvOptions {
  seed: number;
  timeLimit: number;
  /** Compute the Ant contact cost from cfrc_ext (true) or leave it 0 as under mujoco-py 2.0 (false). */
  computeContactCost: boolean;
}

export class MujocoEnv implements Env {
  readonly name: string;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;
  readonly timeLimit: number;
  readonly dt: number;

  private readonly model: MjModel;
  private data: MjData | null;
  private readonly views: ViewCache;
  private readonly episode: Episode;
  private readonly action: Float64Array;
  private readonly qpos0: Float64Array;
  private readonly torsoBody: number;
  /** Ant: the torso x that gym reads "before" the next step (d.xpos left by the last forward pass). */
  private torsoX = 0;
  /** Static geom facts copied once (model views die with heap growth too). */
  private readonly geomStatic: { shape: SceneGeom["shape"] | undefined; size: number[]; color: string }[];

  constructor(
    private readonly mj: MainModule,
    readonly spec: MujocoTaskSpec,
    private readonly options: MujocoEnvOptions,
  ) {
    this.name = spec.name;
    this.model = acquireModel(mj, spec.modelFile);
    const m = this.model;
    try {
      this.data = new mj.MjData(m);
    } catch (e) {
      releaseModel(spec.modelFile);
      throw e;
    }
    this.views = new ViewCache(this.data);
    this.actionSize = m.nu;
    this.observationSize = m.nq - spec.obsQposStart + m.nv;
    const range = m.actuator_ctrlrange as Float64Array;
    this.actionLow = Float64Array.from({ length: m.nu }, (_, i) => range[2 * i]);
    this.actionHigh = Float64Array.from({ length: m.nu }, (_, i) => range[2 * i + 1]);
    this.timeLimit = options.timeLimit;
    this.dt = m.opt.timestep * spec.frameSkip;
    this.action = new Float64Array(m.nu);
    this.qpos0 = Float64Array.from(m.qpos0 as Float64Array);
    this.torsoBody = mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY.value, "torso");
    const type = m.geom_type as Int32Array;
    const size = m.geom_size as Float64Array;
    const rgba = m.geom_rgba as Float32Array;
    this.geomStatic = Array.from({ length: m.ngeom }, (_, g) => ({
      shape: MJ_GEOM_SHAPES[type[g]],
      size: [size[3 * g], size[3 * g + 1], size[3 * g + 2]],
      color: cssColor(rgba[4 * g], rgba[4 * g + 1], rgba[4 * g + 2]),
    }));
    this.episode = new Episode(spec.name, options.timeLimit, options.seed);
  }

  private get d(): MjData {
    this.episode.assertAlive();
    return this.data as MjData;
  }

  reset(options: { seed?: number } = {}): ResetResult {
    const d = this.d;
    this.episode.begin(options.seed);
    const { mj, model: m, spec } = this;
    const rng = this.episode.rng;
    mj.mj_resetData(m, d);
    const v = this.views.fresh();
    const noise = spec.resetNoise;
    for (let i = 0; i < m.nq; i++) v.qpos[i] = this.qpos0[i] + rng.uniform(-noise.qposUniform, noise.qposUniform);
    for (let i = 0; i < m.nv; i++) {
      v.qvel[i] = noise.qvel === "uniform" ? rng.uniform(-noise.qvelScale, noise.qvelScale) : noise.qvelScale * rng.normal();
    }
    mj.mj_forward(m, d);
    this.torsoX = v.xpos[3 * this.torsoBody];
    return { observation: this.observe(), info: {} };
  }

  step(action: ArrayLike<number>): StepResult {
    this.episode.assertRunning();
    const a = readAction(this.name, action, this.action);
    const { mj, model: m, spec } = this;
    const d = this.data as MjData;
    let v = this.views.fresh();
    const xBefore = spec.forward === "rootx" ? v.qpos[0] : this.torsoX;
    for (let i = 0; i < a.length; i++) v.ctrl[i] = a[i];
    for (let k = 0; k < spec.frameSkip; k++) mj.mj_step(m, d);
    const contact = spec.contactWeight > 0 && this.options.computeContactCost;
    if (contact) mj.mj_rnePostConstraint(m, d);
    v = this.views.fresh();
    // gym reads d.xpos right after stepping, without another forward pass: under RK4 (Ant) it holds the kinematics
    // of the last Runge-Kutta stage, close to but not exactly the stepped qpos's; reading it the same way keeps Ant's
    // forward reward gym v2's
    this.torsoX = v.xpos[3 * this.torsoBody];
    const xAfter = spec.forward === "rootx" ? v.qpos[0] : this.torsoX;

    let sumSq = 0;
    for (let i = 0; i < a.length; i++) sumSq += a[i] * a[i];
    const rewardTerms: Record<string, number> = {
      forward: (xAfter - xBefore) / this.dt,
      control: -spec.controlWeight * sumSq,
    };
    if (spec.contactWeight > 0) {
      let c = 0;
      if (contact) {
        for (let i = 0; i < v.cfrc_ext.length; i++) {
          const f = Math.min(1, Math.max(-1, v.cfrc_ext[i]));
          c += f * f;
        }
      }
      rewardTerms.contact = -spec.contactWeight * c;
    }
    if (spec.healthyReward !== 0) rewardTerms.healthy = spec.healthyReward;
    let reward = 0;
    for (const k in rewardTerms) reward += rewardTerms[k];

    const terminated = spec.isHealthy !== null && !spec.isHealthy(v.qpos, v.qvel);
    const truncated = this.episode.finish(terminated);
    return {
      observation: this.observe(),
      reward,
      terminated,
      truncated,
      info: { rewardTerms, xPosition: xAfter, xVelocity: rewardTerms.forward },
    };
  }

  private observe(): Float64Array {
    const v = this.views.fresh();
    const { obsQposStart, qvelClip } = this.spec;
    const obs = new Float64Array(this.observationSize);
    let j = 0;
    for (let i = obsQposStart; i < v.qpos.length; i++) obs[j++] = v.qpos[i];
    for (let i = 0; i < v.qvel.length; i++) {
      const q = v.qvel[i];
      obs[j++] = qvelClip === null ? q : Math.min(qvelClip, Math.max(-qvelClip, q));
    }
    return obs;
  }

  /** Layout of `physics`: [time, qpos (nq), qvel (nv), qacc_warmstart (nv), ctrl (nu)]. */
  private get physicsLength(): number {
    return 1 + this.model.nq + 2 * this.model.nv + this.model.nu;
  }

  getState(): EnvState {
    const d = this.d;
    const v = this.views.fresh();
    const physics = [d.time, ...v.qpos, ...v.qvel, ...v.qacc_warmstart, ...v.ctrl];
    return this.episode.snapshot(physics, [this.torsoX]);
  }

  setState(state: EnvState): void {
    const d = this.d;
    this.episode.restore(state, this.physicsLength, 1);
    const { nq, nv, nu } = this.model;
    const p = state.physics;
    const v = this.views.fresh();
    d.time = p[0];
    let o = 1;
    for (let i = 0; i < nq; i++) v.qpos[i] = p[o++];
    for (let i = 0; i < nv; i++) v.qvel[i] = p[o++];
    const warm = o;
    o += nv;
    for (let i = 0; i < nu; i++) v.ctrl[i] = p[o++];
    // recompute positions etc. for rendering; then put the warm start back in case the pass touched it,
    // since the solver's starting point changes the next step's result in the last bits
    this.mj.mj_forward(this.model, d);
    for (let i = 0; i < nv; i++) v.qacc_warmstart[i] = p[warm + i];
    this.torsoX = state.memo[0];
  }

  /** Current geoms; calls mj_kinematics so poses match qpos exactly (after stepping they hold an intermediate stage's). */
  scene(view: SceneView = this.spec.render.view): Scene {
    const d = this.d;
    this.mj.mj_kinematics(this.model, d);
    const v = this.views.fresh();
    const geoms: SceneGeom[] = [];
    this.geomStatic.forEach((g, i) => {
      if (g.shape === undefined) return;
      geoms.push({
        shape: g.shape,
        pos: [v.geom_xpos[3 * i], v.geom_xpos[3 * i + 1], v.geom_xpos[3 * i + 2]],
        mat: Array.from(v.geom_xmat.subarray(9 * i, 9 * i + 9)),
        size: g.size.slice(),
        color: g.color,
      });
    });
    const r = this.spec.render;
    const cx = v.xpos[3 * this.torsoBody];
    const cy = v.xpos[3 * this.torsoBody + 1];
    const height = view === "side" ? r.height : r.width * 0.75;
    const bottom = view === "side" ? r.bottom : cy - height / 2;
    return { view, geoms, window: { centerX: cx, width: r.width, bottom, height }, groundTicks: true };
  }

  /** The bare simulator behind this env, for benchmarks that compare it with plain mj_step loops. */
  native(): { mj: MainModule; model: MjModel; data: MjData } {
    return { mj: this.mj, model: this.model, data: this.d };
  }

  /** Bytes of the wasm heap right now (for leak tests and benchmarks). */
  heapBytes(): number {
    return this.views.fresh().qpos.buffer.byteLength;
  }

  dispose(): void {
    if (this.data === null) return;
    this.data.delete();
    this.data = null;
    releaseModel(this.spec.modelFile);
    this.episode.disposed = true;
  }
}
