/**
 * Policy change over training (Fig. 3b): how far the acting policy moves between consecutive analysed steps,
 * as KL(π_t(·|s) || π_prev(·|s)) averaged over a fixed set of states. Iterative amortization's policy changes
 * faster than direct amortization's (Sec. 3.2.2), which is part of why it explores more.
 *
 * The policies are tanh-squashed Gaussians with λ = (μ, log σ) from the agent's policy optimizer as it acts
 * (`SacAgent.actingLambda`: β_collect, online Q-networks, acting iterations; J's noise from the estimator's Rng). tanh is a bijection, and KL is unchanged by a bijection of
 * the variable, so the KL between the squashed policies is the closed-form KL between their Gaussians.
 *
 * The previous policy: at each step the estimator keeps the λ it computed on the fixed states, in the run folder
 * (`analysis-inputs/policy-change/<states>-<stride>/lambda/step-<n>/`, or in memory without a run folder), and
 * compares with the newest λ kept for an earlier step — the previous analysed step, named in each row as
 * `previous_step`. Keeping λ rather than the agent means neither training nor `iapo analyze` has to hold two
 * agents, and a resumed or repeated analysis finds the previous policy on disk. The first analysed step has no
 * previous policy: its row has `kl_mean` null.
 *
 * The fixed states: `states` observations from episodes of uniformly random actions, one every `stride` steps,
 * drawn once per task and seed (the paper does not say which states it used) and kept next to the λ.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../core/errors";
import { Rng, deriveSeed } from "../core/rng";
import { meanAndStd } from "../core/stats";
import { makeEnv, toEnvAction } from "../envs";
import { readSnapshot, replaceSnapshot } from "../runs/snapshot-io";
import { estimatorRng } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, Estimator } from "./estimator";

export const POLICY_CHANGE = "policy-change";

export interface PolicyChangeSettings {
  /** States the KL is averaged over. */
  states: number;
  /** Random-policy steps between two kept states (decorrelates them). */
  stride: number;
}

export const POLICY_CHANGE_DEFAULTS: PolicyChangeSettings = { states: 100, stride: 10 };

/** λ of a batch of states, row-major [count, |A|]. */
export interface GaussianParams {
  mean: Float32Array;
  logStd: Float32Array;
}

/**
 * KL(N(μ_p, σ_p²) || N(μ_q, σ_q²)) per state for diagonal Gaussians, summed over the |A| dimensions:
 * Σ_d log(σ_q/σ_p) + (σ_p² + (μ_p − μ_q)²) / (2σ_q²) − 1/2. Computed in float64.
 */
export function gaussianKl(p: GaussianParams, q: GaussianParams, actionSize: number): Float64Array {
  if (p.mean.length !== q.mean.length || p.logStd.length !== p.mean.length || q.logStd.length !== q.mean.length || p.mean.length % actionSize !== 0) {
    throw new ConfigError(`gaussianKl: λ of ${p.mean.length} and ${q.mean.length} values do not match in rows of ${actionSize}`);
  }
  const count = p.mean.length / actionSize;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let kl = 0;
    for (let d = 0; d < actionSize; d++) {
      const k = i * actionSize + d;
      const varRatio = Math.exp(2 * (p.logStd[k] - q.logStd[k]));
      const diff = p.mean[k] - q.mean[k];
      kl += q.logStd[k] - p.logStd[k] + (varRatio + (diff * diff) / Math.exp(2 * q.logStd[k])) / 2 - 0.5;
    }
    out[i] = kl;
  }
  return out;
}

/** `count` observations, one every `stride` steps of uniformly random actions, episodes seeded from `seed`. */
export async function randomPolicyStates(envName: string, seed: number, count: number, stride: number): Promise<{ observations: Float64Array; observationSize: number }> {
  const env = await makeEnv(envName);
  try {
    const rng = new Rng(seed);
    const out = new Float64Array(count * env.observationSize);
    let kept = 0;
    let episode = 0;
    let { observation } = env.reset({ seed: seed + episode });
    for (let t = 1; kept < count; t++) {
      const r = env.step(toEnvAction(rng.fillUniform(new Float32Array(env.actionSize), -1, 1), env));
      observation = r.observation;
      if (t % stride === 0) out.set(observation, env.observationSize * kept++);
      if (r.terminated || r.truncated) observation = env.reset({ seed: seed + ++episode }).observation;
    }
    return { observations: out, observationSize: env.observationSize };
  } finally {
    env.dispose();
  }
}

function checkSettings(settings: Record<string, unknown>): PolicyChangeSettings {
  const known = Object.keys(POLICY_CHANGE_DEFAULTS);
  for (const k of Object.keys(settings)) if (!known.includes(k)) throw new ConfigError(`unknown ${POLICY_CHANGE} setting "${k}"; known: ${known.join(", ")}`);
  const s = { ...POLICY_CHANGE_DEFAULTS, ...settings } as PolicyChangeSettings;
  for (const k of known as (keyof PolicyChangeSettings)[]) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ConfigError(`${POLICY_CHANGE} setting ${k} must be an integer >= 1, got ${JSON.stringify(s[k])}`);
  }
  return s;
}

/** Where the fixed states and the λ of each step live (null without a run folder: kept in memory instead). */
function storeDir(runDir: string | null, s: PolicyChangeSettings): string | null {
  return runDir === null ? null : path.join(runDir, "analysis-inputs", POLICY_CHANGE, `states${s.states}-stride${s.stride}`);
}

function stepFolder(dir: string, step: number): string {
  return path.join(dir, "lambda", `step-${String(step).padStart(9, "0")}`);
}

/** The policy-change estimator with `settings` over its defaults. */
export function policyChange(settings: Record<string, unknown> = {}): Estimator {
  const s = checkSettings(settings);
  // without a run folder the states and λ stay with this estimator object
  const memory = { states: null as Float64Array | null, lambdas: new Map<number, GaussianParams>() };

  const fixedStates = async (context: AnalysisContext, dir: string | null): Promise<Float64Array> => {
    const file = dir && path.join(dir, "states");
    if (file && fs.existsSync(file)) return readSnapshot<{ observations: Float64Array }>(file).observations;
    if (!file && memory.states) return memory.states;
    const { observations } = await randomPolicyStates(context.env, deriveSeed(context.seed, 0, `${POLICY_CHANGE} states`), s.states, s.stride);
    if (file) replaceSnapshot(file, { observations });
    else memory.states = observations;
    return observations;
  };

  const previous = (dir: string | null, step: number): { step: number; lambda: GaussianParams } | null => {
    const steps = dir
      ? (fs.existsSync(path.join(dir, "lambda")) ? fs.readdirSync(path.join(dir, "lambda")) : []).flatMap((n) => (/^step-(\d+)$/.test(n) ? [Number(n.slice(5))] : []))
      : [...memory.lambdas.keys()];
    const before = steps.filter((t) => t < step);
    if (before.length === 0) return null;
    const t = Math.max(...before);
    return { step: t, lambda: dir ? readSnapshot<GaussianParams>(stepFolder(dir, t)) : (memory.lambdas.get(t) as GaussianParams) };
  };

  return {
    name: POLICY_CHANGE,
    settings: { ...s },
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const dir = storeDir(context.runDir, s);
      const observations = await fixedStates(context, dir);
      if (observations.length !== s.states * context.agent.spec.observationSize) {
        throw new ConfigError(`${POLICY_CHANGE}: the kept states have ${observations.length} values; the agent takes ${context.agent.spec.observationSize} per state`);
      }
      const lambda: GaussianParams = context.agent.actingLambda(observations, s.states, estimatorRng(context, POLICY_CHANGE));
      const prev = previous(dir, context.step);
      if (dir) replaceSnapshot(stepFolder(dir, context.step), lambda);
      else memory.lambdas.set(context.step, lambda);
      const row: AnalysisRow = { estimator: POLICY_CHANGE, step: context.step, settings: { ...s }, previous_step: prev?.step ?? null, kl_mean: null, kl_std: null, kl_max: null };
      if (prev) {
        const kl = Array.from(gaussianKl(lambda, prev.lambda, context.agent.spec.actionSize));
        const { mean, std } = meanAndStd(kl);
        Object.assign(row, { kl_mean: mean, kl_std: std, kl_max: Math.max(...kl) });
      }
      return [row];
    },
  };
}
