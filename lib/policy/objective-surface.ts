/**
 * The objective J(s, λ) of one state over the whole (μ, log σ) plane of a one-dimensional action, as rows for
 * charts: the surface itself, its gradient field ∇λ J (the direction every gradient-based update follows) and the
 * path of a sequence of λ estimates across it. With one action dimension λ has exactly two numbers, so the plane
 * shows an optimizer's every move (the paper's Fig. 1 and 14 draw two dimensions of μ of a larger action the same way).
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import { objectiveAndGradient } from "./iterative";
import { disposeTerms, type PolicyObjective } from "./objective";
import type { PolicyParams } from "./params";

/** A point of the plane: μ, log σ and J there. */
export interface SurfaceRow {
  [key: string]: number | string;
  mean: number;
  logStd: number;
  j: number;
}

export interface PlaneGrid {
  /** [low, high] of μ. */
  mean: [number, number];
  /** [low, high] of log σ. */
  logStd: [number, number];
  /** Points per axis (≥ 2). */
  points: number;
}

function checkOneState(objective: PolicyObjective, state: tf.Tensor2D): void {
  if (objective.actionSize !== 1) throw new ConfigError(`the (μ, log σ) plane needs a 1-dimensional action; this objective has ${objective.actionSize}`);
  if (state.shape[0] !== 1) throw new ConfigError(`pass one state ([1, obs]); got ${state.shape[0]}`);
}

function gridLambda(grid: PlaneGrid): { means: number[]; logStds: number[] } {
  if (!Number.isInteger(grid.points) || grid.points < 2) throw new ConfigError(`grid points must be an integer >= 2, got ${grid.points}`);
  const axis = ([lo, hi]: [number, number]): number[] => Array.from({ length: grid.points }, (_, i) => lo + ((hi - lo) * i) / (grid.points - 1));
  const means: number[] = [];
  const logStds: number[] = [];
  for (const m of axis(grid.mean)) {
    for (const l of axis(grid.logStd)) {
      means.push(m);
      logStds.push(l);
    }
  }
  return { means, logStds };
}

function lambdaOf(means: number[], logStds: number[]): PolicyParams {
  return { mean: tf.tensor2d(means, [means.length, 1]), logStd: tf.tensor2d(logStds, [logStds.length, 1]) };
}

/** J at every point of a points × points grid of (μ, log σ), for one state [1, obs]. */
export function objectiveSurface(objective: PolicyObjective, state: tf.Tensor2D, grid: PlaneGrid): SurfaceRow[] {
  checkOneState(objective, state);
  const { means, logStds } = gridLambda(grid);
  const j = tf.tidy(() => {
    const lambda = lambdaOf(means, logStds);
    return objective.evaluate(tf.tile(state, [means.length, 1]), lambda).j.dataSync();
  });
  return means.map((mean, i) => ({ mean, logStd: logStds[i], j: j[i] }));
}

/** ∇λ J on a grid, as arrows from (μ, log σ) to (μ, log σ) + `length`·∇λ J (columns mean2, logStd2). */
export function gradientField(objective: PolicyObjective, state: tf.Tensor2D, grid: PlaneGrid, length: number): (SurfaceRow & { mean2: number; logStd2: number })[] {
  checkOneState(objective, state);
  const { means, logStds } = gridLambda(grid);
  const [j, gMean, gLogStd] = tf.tidy(() => {
    const { terms, grad } = objectiveAndGradient(tf.tile(state, [means.length, 1]), objective, lambdaOf(means, logStds));
    const values = [terms.j, grad.mean, grad.logStd].map((t) => t.dataSync());
    disposeTerms(terms); // kept by objectiveAndGradient beyond any tidy scope
    return values;
  });
  return means.map((mean, i) => ({ mean, logStd: logStds[i], j: j[i], mean2: mean + length * gMean[i], logStd2: logStds[i] + length * gLogStd[i] }));
}

/** A sequence of estimates λ_0, λ_1, … (each [1, 1]) as rows: iteration, μ, log σ and J there, labelled. */
export function lambdaPath(objective: PolicyObjective, state: tf.Tensor2D, lambdas: readonly PolicyParams[], label: string): (SurfaceRow & { iteration: number; label: string })[] {
  checkOneState(objective, state);
  return lambdas.map((lambda, iteration) => {
    const [mean, logStd, j] = tf.tidy(() => [lambda.mean, lambda.logStd, objective.evaluate(state, lambda).j].map((t) => t.dataSync()[0]));
    return { iteration, mean, logStd, j, label };
  });
}
