import { ConfigError } from "../../core/errors";
import type { Env } from "../types";
import type { Scene } from "./scene";

export interface RecordOptions {
  /** Seed for the reset that starts the rollout (default: continue the env's stream). */
  seed?: number;
  /** Steps to run at most (default: the env's time limit). */
  maxSteps?: number;
  /** Keep every n-th frame (default 10); the first and the last frame are always kept. */
  every?: number;
}

/**
 * Runs one episode with `policy` from a fresh reset and keeps a scene every `every` steps, labelled
 * with the simulated time, ready for `renderFilmstripSvg`.
 */
export function recordFrames(env: Env, policy: (observation: Float64Array) => ArrayLike<number>, options: RecordOptions = {}): Scene[] {
  const every = options.every ?? 10;
  if (!Number.isInteger(every) || every < 1) throw new ConfigError(`every must be a positive integer, got ${every}`);
  const maxSteps = options.maxSteps ?? env.timeLimit;
  const label = (t: number): string => `t = ${(t * env.dt).toFixed(2)} s`;
  let { observation } = env.reset(options.seed === undefined ? {} : { seed: options.seed });
  const frames: Scene[] = [{ ...env.scene(), label: label(0) }];
  for (let t = 1; t <= maxSteps; t++) {
    const r = env.step(policy(observation));
    observation = r.observation;
    const end = r.terminated || r.truncated || t === maxSteps;
    if (t % every === 0 || end) frames.push({ ...env.scene(), label: label(t) + (r.terminated ? " (fell)" : "") });
    if (r.terminated || r.truncated) break;
  }
  return frames;
}
