/**
 * Evaluation-time iterations (test-time optimisation, Sec. 4.2.3; SacConfig.iterations.eval): evaluation episodes
 * run the iterative optimizer for `eval` iterations where acting runs `act`, without changing what the agent
 * collects or computes in training. J's noise in acting comes from the agent's Rng, so an evaluation must draw
 * from it exactly what an acting-length run draws: it runs as legs, each continuing from the λ the one before
 * kept (an iteration depends only on s, λ and ∇λ J, so continuing is the same as running on):
 * - the first min(act, eval) iterations on the agent's Rng;
 * - eval < act: the remaining act − eval iterations on the agent's Rng as well, their λ discarded;
 * - eval > act: eval − act more iterations on a side stream derived from the agent's Rng state without advancing it.
 * With eval = act this is one run of `act` iterations, as before the option existed.
 */
import { deriveSeed, Rng } from "../../core/rng";

/** One leg: `iterations` more iterations; J's noise from the agent's Rng or the side stream; `keep`: its λ carries on. */
export interface EvaluationLeg {
  iterations: number;
  noise: "agent" | "side";
  keep: boolean;
}

/** The legs of an evaluation run with `evaluation` iterations where acting runs `act`. */
export function evaluationLegs(act: number, evaluation: number): EvaluationLeg[] {
  const legs: EvaluationLeg[] = [{ iterations: Math.min(act, evaluation), noise: "agent", keep: true }];
  if (evaluation < act) legs.push({ iterations: act - evaluation, noise: "agent", keep: false });
  if (evaluation > act) legs.push({ iterations: evaluation - act, noise: "side", keep: true });
  return legs;
}

/** A stream that is a function of `rng`'s state and unrelated to it; `rng` does not move. */
export function sideStream(rng: Rng): Rng {
  const { s, spareNormal } = rng.getState();
  return new Rng(deriveSeed("evaluation iterations", ...s, spareNormal ?? "none"));
}

/**
 * Runs the legs on one update path and returns the last kept λ. `run(iterations, init, noise)` continues the
 * optimizer from `init` (null: its λ0) for `iterations`; `release` frees a λ no longer needed (tensors).
 */
export function runEvaluationLegs<L>(legs: EvaluationLeg[], agentRng: Rng, run: (iterations: number, init: L | null, noise: Rng) => L, release: (lambda: L) => void): L {
  let kept: L | null = null;
  for (const leg of legs) {
    const lambda = run(leg.iterations, kept, leg.noise === "agent" ? agentRng : sideStream(agentRng));
    if (!leg.keep) {
      release(lambda);
      continue;
    }
    if (kept !== null) release(kept);
    kept = lambda;
  }
  if (kept === null) throw new RangeError("evaluation legs: the first leg must keep its λ");
  return kept;
}
