/**
 * Value-bias rollouts (Sec 3.2.2): env steps per second of the Monte Carlo soft-return rollouts with a direct
 * policy of the paper's size acting (one batched policy call per time step), against bare mujoco-js stepping
 * the same states for the same number of steps; the policy's share of the time; the speed-up from a second
 * process, measured on the wall clock (a child starting, and one kept from an earlier evaluation) and projected
 * from CPU time for two free cores (a busy host's wall clock understates it); and what one full
 * evaluation at the paper's settings (100 pairs × 100 rollouts × up to 1000 steps) costs. Hopper-v2 (an untrained
 * policy falls within tens of steps, so restores weigh in) and HalfCheetah-v2 (never terminates: stepping only).
 */
import { SacAgent } from "../../agents/sac/agent";
import { defaultSacConfig } from "../../presets/presets";
import { initBackend } from "../../backend/select";
import { Rng } from "../../core/rng";
import { MujocoEnv } from "../../envs/mujoco/mujocoEnv";
import { makeEnv, makeEnvCopies } from "../../envs/registry";
import { DEFAULT_VALUE_BIAS_SETTINGS, measureValueBias, type ValueBiasRun, type ValueBiasSettings } from "../../analysis/value-bias";
import { drawPairs, type StateActionPairs } from "../../analysis/value-bias-pairs";
import { stopRolloutWorkers } from "../../analysis/rollouts-parallel";
import { AgentPolicySampler } from "../../analysis/rollouts-policy";
import { deriveSeed } from "../../core/rng";
import { rolloutSoftReturns, type PolicySampler } from "../../analysis/soft-return-rollouts";
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

/** CPU seconds (user + system, all threads) since `from`: on a loaded machine a steadier clock than the wall. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

/** One group of rollouts as the estimator runs them, with every action recorded, and its CPU time. */
interface Recorded {
  /** CPU seconds of the rollouts, and of the policy calls in them. */
  seconds: number;
  policySeconds: number;
  steps: number;
  /** Per rollout: the pair's state and every action taken (the first one included). */
  rows: { state: StateActionPairs["pairs"][number]["state"]; actions: Float64Array[] }[];
}

/** The estimator's rollouts for `pairs` (one group, one process), recording the actions for the bare replay. */
async function recordedRollouts(env: string, agent: SacAgent, pairs: StateActionPairs, rollouts: number, horizon: number): Promise<Recorded> {
  const envs = await makeEnvCopies(env, pairs.pairs.length * rollouts);
  try {
    const rows: Recorded["rows"] = [];
    const rngs: Rng[] = [];
    const first: number[][] = [];
    pairs.pairs.forEach((p, i) => {
      for (let j = 0; j < rollouts; j++) {
        envs[rows.length].setState(p.state);
        rows.push({ state: p.state, actions: [Float64Array.from(p.action)] });
        rngs.push(new Rng(deriveSeed(0, "bench", i, j)));
        first.push(p.action);
      }
    });
    const rowOf = new Map(rngs.map((r, i) => [r, i]));
    const policy = new AgentPolicySampler(agent, "collect", new Rng(1));
    let policySeconds = 0;
    const recording: PolicySampler = {
      observationSize: policy.observationSize,
      actionSize: policy.actionSize,
      sample(observations, count, rowRngs, actions, logRatios) {
        const t0 = process.cpuUsage();
        policy.sample(observations, count, rowRngs, actions, logRatios);
        policySeconds += cpuSince(t0);
        const A = policy.actionSize;
        for (let k = 0; k < count; k++) rows[rowOf.get(rowRngs[k]) as number].actions.push(Float64Array.from(actions.subarray(k * A, k * A + A)));
      },
    };
    const t0 = process.cpuUsage();
    const out = await rolloutSoftReturns(envs, first, recording, rngs, { gamma: 0.99, alpha: agent.alpha, horizon });
    const seconds = cpuSince(t0);
    // the replay steps a row once per action; the last action drawn for a row is always taken
    return { seconds, policySeconds, steps: out.steps.reduce((a, b) => a + b, 0), rows };
  } finally {
    for (const e of envs) e.dispose();
  }
}

/** CPU seconds for bare mujoco-js to restore each recorded rollout's state and step through its actions (ctrl, frame-skip mj_steps). */
async function bareReplaySeconds(env: string, recorded: Recorded): Promise<number> {
  const e = (await makeEnv(env)) as MujocoEnv;
  try {
    const { mj, model, data } = e.native();
    const frameSkip = e.spec.frameSkip;
    const t0 = process.cpuUsage();
    for (const row of recorded.rows) {
      e.setState(row.state); // as the rollouts do
      const ctrl = data.ctrl as Float64Array; // fetched after the restore, so the view is live
      for (const a of row.actions) {
        for (let i = 0; i < a.length; i++) ctrl[i] = a[i];
        for (let f = 0; f < frameSkip; f++) mj.mj_step(model, data);
      }
    }
    return cpuSince(t0);
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
    const timedRun = async (workers: number): Promise<{ run: ValueBiasRun; wall: number; steps: number; cpu: number; cpuMax: number }> => {
      const t0 = performance.now();
      const run = await measureValueBias(context, settings, workers);
      const wall = (performance.now() - t0) / 1000;
      const sum = (k: "envSteps" | "cpuSeconds"): number => run.timings.reduce((s, t) => s + t[k], 0);
      return { run, wall, steps: sum("envSteps"), cpu: sum("cpuSeconds"), cpuMax: Math.max(...run.timings.map((t) => t.cpuSeconds)) };
    };
    await timedRun(1); // warm-up: V8 optimisation, the pairs drawn and cached
    // one group's rollouts against bare stepping of the same states and actions: best of `rounds`, alternating
    const group = { ...(await drawPairs(c.env, 0, c.pairs)) };
    group.pairs = group.pairs.slice(0, c.pairsPerBatch);
    let rec = await recordedRollouts(c.env, agent, group, c.rollouts, c.horizon);
    let bare = await bareReplaySeconds(c.env, rec);
    for (let r = 1; r < rounds; r++) {
      const again = await recordedRollouts(c.env, agent, group, c.rollouts, c.horizon);
      if (again.seconds < rec.seconds) rec = again;
      bare = Math.min(bare, await bareReplaySeconds(c.env, rec));
    }
    const one = await timedRun(1);
    stopRolloutWorkers();
    const cold = await timedRun(2); // starts the child
    const two = await timedRun(2); // the kept child, as at every evaluation after a run's first
    const rolloutRate = rec.steps / rec.seconds;
    const bareRate = rec.steps / bare;
    const meanSteps = one.steps / (c.pairs * c.rollouts);
    const best = Math.max(one.steps / one.wall, two.steps / two.wall);
    const full = DEFAULT_VALUE_BIAS_SETTINGS.pairs * DEFAULT_VALUE_BIAS_SETTINGS.rollouts;
    const groupNote = `${c.pairsPerBatch} pairs x ${c.rollouts} rollouts in one policy call, ${(rec.steps / (c.pairsPerBatch * c.rollouts)).toFixed(0)} steps/rollout; best of ${rounds}`;
    const note = `${c.pairs} pairs x ${c.rollouts} rollouts, horizon ${c.horizon}, mean ${meanSteps.toFixed(0)} steps/rollout`;
    const f = (name: string, variant: string, value: number, unit: string, n?: string): BenchFigure => ({ suite: SUITE, name: `${c.env} ${name}`, variant, value, unit, note: n });
    return [
      f("env steps per CPU second", "bare mujoco-js", bareRate, "steps/s", "the rollouts' states and actions replayed"),
      f("env steps per CPU second", "value-bias rollouts", rolloutRate, "steps/s", groupNote),
      f("rollouts vs bare stepping", "one process", (100 * rolloutRate) / bareRate, "%", "target >= 50"),
      f("policy share of rollout CPU time", "direct, paper size", (100 * rec.policySeconds) / rec.seconds, "%"),
      f("env steps, whole evaluation", "1 process", one.steps / one.wall, "steps/s", `wall clock, pairs and Q-values included; ${note}`),
      f("env steps, whole evaluation", "2 processes, child starting", cold.steps / cold.wall, "steps/s", `wall clock; speed-up x${(one.wall / cold.wall).toFixed(2)}`),
      f("env steps, whole evaluation", "2 processes, child kept", two.steps / two.wall, "steps/s", `wall clock; speed-up x${(one.wall / two.wall).toFixed(2)}`),
      f("rollout CPU time", "1 process", (1e6 * one.cpu) / one.steps, "µs/step", "user + system, all threads"),
      f("rollout CPU time", "2 processes, child kept", (1e6 * two.cpu) / two.steps, "µs/step", "summed over both processes"),
      f("2 processes on two free cores", "projected", one.cpu / two.cpuMax, "x speed-up", "1-process CPU time / the larger share's CPU time (a kept child)"),
      f("full evaluation at paper settings", `at ${meanSteps.toFixed(0)} steps/rollout`, (full * meanSteps) / best, "s", "100 pairs x 100 rollouts, wall clock here, at the better process count"),
      f("full evaluation at paper settings", "at 1000 steps/rollout", (full * 1000) / best, "s", "a policy that never falls (the upper bound), wall clock here"),
      f("full evaluation at paper settings", "at 1000 steps/rollout", (full * 1000 * one.cpu) / one.steps, "CPU s", "on one free core; divide by the projected speed-up for two"),
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
