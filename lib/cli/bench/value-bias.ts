/**
 * Value-bias rollouts (Sec 3.2.2): env steps per second of the Monte Carlo soft-return rollouts with a direct
 * policy of the paper's size acting (one batched policy call per time step), against bare mujoco-js stepping
 * the same states for the same number of steps, the policy's share of the time, the speed-up from a second
 * process, and what one full evaluation at the paper's settings (100 pairs × 100 rollouts × up to 1000 steps)
 * costs. Hopper-v2 (an untrained policy falls within tens of steps, so restores weigh in) and HalfCheetah-v2
 * (never terminates: long rollouts, stepping only).
 */
import { SacAgent } from "../../agents/sac/agent";
import { defaultSacConfig } from "../../agents/sac/config";
import { initBackend } from "../../backend/select";
import { Rng } from "../../core/rng";
import { MujocoEnv } from "../../envs/mujoco/mujocoEnv";
import { makeEnv } from "../../envs/registry";
import { DEFAULT_VALUE_BIAS_SETTINGS, measureValueBias, type ValueBiasRun, type ValueBiasSettings } from "../../analysis/value-bias";
import { drawPairs, type StateActionPairs } from "../../analysis/value-bias-pairs";
import { stopRolloutWorkers } from "../../analysis/rollouts-parallel";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";

const SUITE = "value-bias";

interface Case {
  env: string;
  pairs: number;
  rollouts: number;
  horizon: number;
  /** Pairs per policy call; at least two groups, so the second process has work. */
  pairsPerBatch: number;
}

function cases(quick: boolean): Case[] {
  const k = quick ? 2 : 1;
  return [
    { env: "Hopper-v2", pairs: 20 / k, rollouts: 100, horizon: 1000, pairsPerBatch: 5 },
    { env: "HalfCheetah-v2", pairs: 4 / k, rollouts: 100, horizon: 200, pairsPerBatch: 2 / k },
  ];
}

/**
 * Seconds for bare mujoco-js to step every pair's state `rollouts` times for the pair's measured mean rollout
 * length: restore (as the rollouts do), then ctrl and frame-skip mj_steps with uniform random controls.
 */
async function bareSeconds(env: string, pairs: StateActionPairs, run: ValueBiasRun, rollouts: number): Promise<{ seconds: number; steps: number }> {
  const e = (await makeEnv(env)) as MujocoEnv;
  const rng = new Rng(7);
  try {
    const { mj, model, data } = e.native();
    const frameSkip = e.spec.frameSkip;
    let steps = 0;
    const t0 = performance.now();
    for (const r of run.returns) {
      const length = Math.round(r.meanSteps);
      for (let j = 0; j < rollouts; j++) {
        e.setState(pairs.pairs[r.index].state);
        const ctrl = data.ctrl as Float64Array; // fetched after the restore, so the view is live
        for (let t = 0; t < length; t++) {
          for (let i = 0; i < ctrl.length; i++) ctrl[i] = rng.uniform(-1, 1);
          for (let f = 0; f < frameSkip; f++) mj.mj_step(model, data);
        }
        steps += length;
      }
    }
    return { seconds: (performance.now() - t0) / 1000, steps };
  } finally {
    e.dispose();
  }
}

/** The figures for one task. */
async function measureCase(c: Case, rounds: number): Promise<BenchFigure[]> {
  const probe = await makeEnv(c.env);
  const spec = { observationSize: probe.observationSize, actionSize: probe.actionSize };
  probe.dispose();
  const agent = SacAgent.create(defaultSacConfig(c.env, "direct", "paper"), spec, new Rng(0));
  const settings: ValueBiasSettings = { ...DEFAULT_VALUE_BIAS_SETTINGS, pairs: c.pairs, rollouts: c.rollouts, horizon: c.horizon, pairsPerBatch: c.pairsPerBatch };
  const context = { agent, env: c.env, step: 0, seed: 0, runDir: null };
  try {
    const timedRun = async (workers: number): Promise<{ run: ValueBiasRun; wall: number; steps: number }> => {
      const t0 = performance.now();
      const run = await measureValueBias(context, settings, workers);
      const wall = (performance.now() - t0) / 1000;
      return { run, wall, steps: run.timings.reduce((s, t) => s + t.envSteps, 0) };
    };
    await timedRun(1); // warm-up: V8 optimisation, the pairs drawn and cached
    // best of `rounds`, alternating rollouts and bare stepping so both see the same machine load
    const pairs = await drawPairs(c.env, 0, c.pairs);
    let one = await timedRun(1);
    let bare = await bareSeconds(c.env, pairs, one.run, c.rollouts);
    for (let r = 1; r < rounds; r++) {
      const again = await timedRun(1);
      if (again.wall < one.wall) one = again;
      const b = await bareSeconds(c.env, pairs, one.run, c.rollouts);
      if (b.seconds < bare.seconds) bare = b;
    }
    stopRolloutWorkers();
    const cold = await timedRun(2); // starts the child
    const two = await timedRun(2); // the kept child, as at every evaluation after a run's first
    const t = one.run.timings[0];
    const rolloutRate = t.envSteps / t.totalSeconds;
    const bareRate = bare.steps / bare.seconds;
    const meanSteps = one.steps / (c.pairs * c.rollouts);
    const best = Math.max(one.steps / one.wall, two.steps / two.wall);
    const full = DEFAULT_VALUE_BIAS_SETTINGS.pairs * DEFAULT_VALUE_BIAS_SETTINGS.rollouts;
    const note = `${c.pairs} pairs x ${c.rollouts} rollouts, horizon ${c.horizon}, mean ${meanSteps.toFixed(0)} steps/rollout, ${settings.pairsPerBatch} pairs per policy call`;
    const f = (name: string, variant: string, value: number, unit: string, n?: string): BenchFigure => ({ suite: SUITE, name: `${c.env} ${name}`, variant, value, unit, note: n });
    return [
      f("env steps, one core", "bare mujoco-js", bareRate, "steps/s", `same states, same steps, random controls; best of ${rounds}`),
      f("env steps, one core", "value-bias rollouts", rolloutRate, "steps/s", note),
      f("rollouts vs bare stepping", "one process", (100 * rolloutRate) / bareRate, "%", "target >= 50"),
      f("policy share of rollout time", "direct, paper size", (100 * t.policySeconds) / t.totalSeconds, "%"),
      f("env steps, whole evaluation", "1 process", one.steps / one.wall, "steps/s", "wall clock, pairs and Q-values included"),
      f("env steps, whole evaluation", "2 processes, child starting", cold.steps / cold.wall, "steps/s", `wall clock; speed-up x${(one.wall / cold.wall).toFixed(2)}`),
      f("env steps, whole evaluation", "2 processes, child kept", two.steps / two.wall, "steps/s", `wall clock; speed-up x${(one.wall / two.wall).toFixed(2)}`),
      f("full evaluation at paper settings", `at ${meanSteps.toFixed(0)} steps/rollout`, (full * meanSteps) / best, "s", "100 pairs x 100 rollouts, at the better process count"),
      f("full evaluation at paper settings", "at 1000 steps/rollout", (full * 1000) / best, "s", "a policy that never falls: the upper bound"),
    ];
  } finally {
    agent.dispose();
  }
}

/** Every figure of the value-bias benchmark. */
export async function valueBiasFigures(options: BenchOptions): Promise<BenchFigure[]> {
  await initBackend();
  const figures: BenchFigure[] = [];
  try {
    for (const c of cases(options.quick)) figures.push(...(await measureCase(c, options.quick ? 1 : 3)));
  } finally {
    stopRolloutWorkers();
  }
  return figures;
}

export const valueBiasSuite: BenchSuite = {
  name: SUITE,
  description: "value-bias Monte Carlo rollouts: env steps/s against bare mujoco-js, policy share, 1 vs 2 processes, cost of a paper-scale evaluation",
  run: valueBiasFigures,
};
