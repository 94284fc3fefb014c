/**
 * The value-bias estimator's fixed inputs (Sec 3.2.2, App A.2): state–action pairs visited by a uniform random
 * policy, drawn once per task, seed and count and reused at every evaluation over training, so the bias curve
 * measures the agent's change, not a change of states. Each pair keeps the env's full state (`Env.getState`),
 * so rollouts restore it exactly. Kept in `<runDir>/analysis/value-bias-pairs-<count>.json` when there is a run
 * folder (written atomically), else in memory for the process.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, CorruptFileError } from "../core/errors";
import { Rng } from "../core/rng";
import { makeEnv } from "../envs/registry";
import type { EnvState } from "../envs/types";
import { writeFileAtomic } from "../runs/atomic";
import { deriveSeed } from "../core/rng";

export interface StateActionPair {
  /** The env's full state before the action (episode step count included, so the time limit still applies). */
  state: EnvState;
  /** The observation at that state (Q̂'s input). */
  observation: number[];
  /** The uniform random action taken there, in [-1, 1]^|A|. */
  action: number[];
}

export interface StateActionPairs {
  version: 1;
  env: string;
  seed: number;
  pairs: StateActionPair[];
}

/** The pairs are a uniform subsample of this many random-policy steps per pair (episodes of a random Hopper last ~20 steps). */
const POOL_STEPS_PER_PAIR = 10;

const memory = new Map<string, StateActionPairs>();

/** Where a run keeps its `count` pairs. */
export function pairsFile(runDir: string, count: number): string {
  return path.join(runDir, "analysis", `value-bias-pairs-${count}.json`);
}

/**
 * `count` pairs from uniform random-policy episodes of `env` (reset on termination or truncation): a pool of
 * 10·count consecutive steps, of which `count` are chosen uniformly without replacement, kept in visiting order.
 * Deterministic in (env, seed, count).
 */
export async function drawPairs(env: string, seed: number, count: number): Promise<StateActionPairs> {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`value bias: pairs must be an integer >= 1, got ${count}`);
  const rng = new Rng(deriveSeed(seed, "value-bias-pairs", env));
  const e = await makeEnv(env, { seed: rng.nextSeed() });
  try {
    const poolSize = POOL_STEPS_PER_PAIR * count;
    const pool: StateActionPair[] = [];
    let observation = e.reset().observation;
    while (pool.length < poolSize) {
      const action = Array.from(rng.fillUniform(new Float64Array(e.actionSize), -1, 1));
      pool.push({ state: e.getState(), observation: Array.from(observation), action });
      const r = e.step(action);
      observation = r.terminated || r.truncated ? e.reset().observation : r.observation;
    }
    // partial Fisher–Yates: the first `count` entries of a random permutation of the pool indices
    const index = Array.from({ length: poolSize }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + rng.int(poolSize - i);
      [index[i], index[j]] = [index[j], index[i]];
    }
    const chosen = index.slice(0, count).sort((a, b) => a - b);
    return { version: 1, env, seed, pairs: chosen.map((i) => pool[i]) };
  } finally {
    e.dispose();
  }
}

function checkPairs(data: unknown, file: string, env: string, seed: number, count: number): StateActionPairs {
  const d = data as Partial<StateActionPairs> | null;
  const bad = (why: string): never => {
    throw new CorruptFileError(`value-bias pairs file ${file}: ${why}`);
  };
  if (!d || typeof d !== "object" || d.version !== 1 || !Array.isArray(d.pairs)) return bad("not a version-1 pairs file");
  if (d.env !== env || d.seed !== seed) return bad(`holds pairs of ${String(d.env)} seed ${String(d.seed)}, this run is ${env} seed ${seed}`);
  if (d.pairs.length !== count) return bad(`holds ${d.pairs.length} pairs, expected ${count}`);
  d.pairs.forEach((p, i) => {
    const ok = p && typeof p.state === "object" && Array.isArray(p.observation) && Array.isArray(p.action);
    if (!ok || ![...p.observation, ...p.action].every((v) => typeof v === "number" && Number.isFinite(v))) bad(`pair ${i} is malformed`);
  });
  return d as StateActionPairs;
}

/**
 * The run's pairs: read from the run folder when kept there, else drawn (and kept there, or in memory when
 * `runDir` is null). A file that does not parse or does not match the run fails naming the file.
 */
export async function loadOrDrawPairs(env: string, seed: number, count: number, runDir: string | null): Promise<StateActionPairs> {
  if (runDir === null) {
    const key = `${env}\u0000${seed}\u0000${count}`;
    let pairs = memory.get(key);
    if (!pairs) {
      pairs = await drawPairs(env, seed, count);
      memory.set(key, pairs);
    }
    return pairs;
  }
  const file = pairsFile(runDir, count);
  if (fs.existsSync(file)) {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new CorruptFileError(`value-bias pairs file ${file} does not parse: ${(e as Error).message}`);
    }
    return checkPairs(data, file, env, seed, count);
  }
  const pairs = await drawPairs(env, seed, count);
  writeFileAtomic(file, JSON.stringify(pairs));
  return pairs;
}
