/**
 * Environment throughput: env steps per second with random actions for every task, and for the
 * MuJoCo tasks a bare mujoco-js loop on the same model with the same actions and the same number of
 * resets, so the wrapper's own cost (checks, observation, reward, termination) shows as a percentage.
 */
import { Rng } from "../../core/rng";
import { MujocoEnv } from "../../envs/mujoco/mujocoEnv";
import { ENV_NAMES, MUJOCO_ENV_NAMES, makeEnv } from "../../envs/registry";
import type { Env } from "../../envs/types";
import type { BenchFigure, BenchSuite } from "./types";

const STEPS: Record<string, number> = {
  "Hopper-v2": 10000,
  "Walker2d-v2": 8000,
  "HalfCheetah-v2": 25000,
  "Ant-v2": 3000,
  "Pendulum-v1": 200000,
  "PointReach-v0": 200000,
};

function actionsFor(env: Env, n: number): Float64Array[] {
  const rng = new Rng(123);
  return Array.from({ length: n }, () => rng.fillUniform(new Float64Array(env.actionSize), -1, 1) as Float64Array);
}

/** Steps through `actions` with the wrapper, resetting when an episode ends. Returns seconds and reset marks. */
function wrapperLoop(env: Env, actions: Float64Array[]): { seconds: number; resetAfter: Uint8Array } {
  env.reset({ seed: 0 });
  const resetAfter = new Uint8Array(actions.length);
  const t0 = performance.now();
  for (let t = 0; t < actions.length; t++) {
    const r = env.step(actions[t]);
    if (r.terminated || r.truncated) {
      env.reset();
      resetAfter[t] = 1;
    }
  }
  return { seconds: (performance.now() - t0) / 1000, resetAfter };
}

/**
 * The same work on bare mujoco-js: ctrl, frame_skip mj_steps, and mj_resetData + mj_forward after the
 * same steps where the wrapper reset (so both simulate the same mix of upright and fallen states).
 */
function bareLoop(env: MujocoEnv, actions: Float64Array[], resetAfter: Uint8Array): number {
  const { mj, model } = env.native();
  const d = new mj.MjData(model);
  try {
    const ctrl = d.ctrl as Float64Array; // fetched after the allocation, so the view is live
    const frameSkip = env.spec.frameSkip;
    mj.mj_resetData(model, d);
    mj.mj_forward(model, d);
    const t0 = performance.now();
    for (let t = 0; t < actions.length; t++) {
      const a = actions[t];
      for (let i = 0; i < a.length; i++) ctrl[i] = a[i];
      for (let k = 0; k < frameSkip; k++) mj.mj_step(model, d);
      if (resetAfter[t] === 1) {
        mj.mj_resetData(model, d);
        mj.mj_forward(model, d);
      }
    }
    return (performance.now() - t0) / 1000;
  } finally {
    d.delete();
  }
}

async function run(quick: boolean): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const rounds = quick ? 1 : 3;
  for (const name of ENV_NAMES) {
    const env = await makeEnv(name);
    const n = Math.round(STEPS[name] / (quick ? 4 : 1));
    const actions = actionsFor(env, n);
    const isMujoco = (MUJOCO_ENV_NAMES as readonly string[]).includes(name);
    // best of `rounds`, alternating wrapper and bare loop so both see the same machine load
    let wrapperBest = Infinity;
    let bareBest = Infinity;
    let resets = 0;
    for (let r = 0; r < rounds; r++) {
      const w = wrapperLoop(env, actions);
      wrapperBest = Math.min(wrapperBest, w.seconds);
      resets = w.resetAfter.reduce((sum, x) => sum + x, 0);
      if (isMujoco) bareBest = Math.min(bareBest, bareLoop(env as MujocoEnv, actions, w.resetAfter));
    }
    const note = `${n} steps, ${resets} resets, best of ${rounds}`;
    figures.push({ suite: "envs", name: `${name} env steps`, variant: "iapo env", value: n / wrapperBest, unit: "steps/s", note });
    if (isMujoco) {
      figures.push({ suite: "envs", name: `${name} env steps`, variant: "bare mujoco-js", value: n / bareBest, unit: "steps/s", note });
      figures.push({
        suite: "envs",
        name: `${name} wrapper cost`,
        variant: "iapo vs bare",
        value: 100 * (wrapperBest / bareBest - 1),
        unit: "%",
        note: "target < 20",
      });
      // the value-bias analysis restores one state into many copies: what one save + restore costs
      env.reset({ seed: 1 });
      const reps = quick ? 500 : 5000;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) env.setState(env.getState());
      const us = ((performance.now() - t0) * 1000) / reps;
      figures.push({ suite: "envs", name: `${name} getState + setState`, variant: "iapo env", value: us, unit: "µs/pair" });
    }
    env.dispose();
    await new Promise((resolve) => setImmediate(resolve)); // let other work in the process run between tasks
  }
  return figures;
}

export const envsSuite: BenchSuite = {
  name: "envs",
  description: "env steps/s with random actions per task; MuJoCo wrapper vs a bare mujoco-js loop on the same model",
  run: (options) => run(options.quick),
};
