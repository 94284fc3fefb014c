/**
 * `makeEnv(name, options)`: the one way to create an env by its registered name.
 */
import { ConfigError, UnknownNameError } from "../core/errors";
import { Pendulum } from "./classic/pendulum";
import { PointReach } from "./classic/pointReach";
import { MujocoEnv } from "./mujoco/mujocoEnv";
import { loadMujoco } from "./mujoco/runtime";
import { MUJOCO_TASKS } from "./mujoco/tasks";
import type { Env, EnvOptions } from "./types";

/** The MuJoCo locomotion tasks the paper evaluates on. */
export const MUJOCO_ENV_NAMES = ["Hopper-v2", "HalfCheetah-v2", "Walker2d-v2", "Ant-v2"] as const;
/** Small tasks without a physics engine, for tests and tutorials. */
export const SMALL_ENV_NAMES = ["Pendulum-v1", "PointReach-v0"] as const;
export const ENV_NAMES = [...MUJOCO_ENV_NAMES, ...SMALL_ENV_NAMES] as const;
export type EnvName = (typeof ENV_NAMES)[number];

const DEFAULT_TIME_LIMIT: Readonly<Record<EnvName, number>> = {
  "Hopper-v2": 1000,
  "HalfCheetah-v2": 1000,
  "Walker2d-v2": 1000,
  "Ant-v2": 1000,
  "Pendulum-v1": 200,
  "PointReach-v0": 50,
};

export function isEnvName(name: string): name is EnvName {
  return (ENV_NAMES as readonly string[]).includes(name);
}

function checkOptions(name: EnvName, options: EnvOptions): { seed: number; timeLimit: number } {
  const known = name === "Ant-v2" ? ["seed", "timeLimit", "contactCost"] : ["seed", "timeLimit"];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ConfigError(`${name}: unknown option "${key}"; options: ${known.join(", ")}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`${name}: seed must be an integer, got ${seed}`);
  const timeLimit = options.timeLimit ?? DEFAULT_TIME_LIMIT[name];
  if (!Number.isInteger(timeLimit) || timeLimit < 1) throw new ConfigError(`${name}: timeLimit must be a positive integer, got ${timeLimit}`);
  if (options.contactCost !== undefined && options.contactCost !== "zero" && options.contactCost !== "computed") {
    throw new ConfigError(`${name}: contactCost must be "zero" or "computed", got ${String(options.contactCost)}`);
  }
  return { seed, timeLimit };
}

/**
 * Creates a fresh env. Async because the MuJoCo module loads lazily (once per process); envs of the
 * same task share one compiled model, so making 100 copies for a Monte Carlo estimate is cheap.
 */
export async function makeEnv(name: string, options: EnvOptions = {}): Promise<Env> {
  if (!isEnvName(name)) throw new UnknownNameError("environment", name, ENV_NAMES);
  const { seed, timeLimit } = checkOptions(name, options);
  if (name === "Pendulum-v1") return new Pendulum({ seed, timeLimit });
  if (name === "PointReach-v0") return new PointReach({ seed, timeLimit });
  const mj = await loadMujoco();
  return new MujocoEnv(mj, MUJOCO_TASKS[name], { seed, timeLimit, computeContactCost: options.contactCost === "computed" });
}

/** `n` independent envs of one task (same options), e.g. to restore one saved state into each. */
export async function makeEnvCopies(name: string, n: number, options: EnvOptions = {}): Promise<Env[]> {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`makeEnvCopies: n must be a non-negative integer, got ${n}`);
  const envs: Env[] = [];
  try {
    for (let i = 0; i < n; i++) envs.push(await makeEnv(name, options));
  } catch (e) {
    for (const env of envs) env.dispose();
    throw e;
  }
  return envs;
}
