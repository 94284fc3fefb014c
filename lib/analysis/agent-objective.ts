/**
 * What every estimator needs from the agent without touching it: its own random stream, J (Eq. 7) built on
 * the agent's Q-networks and α but drawing noise from that stream, and the agent's amortized λ for a batch of
 * states. Nothing here calls the agent's `act` or `objective`, which draw from the agent's Rng.
 */
import { tf } from "../backend/tf";
import { Rng, deriveSeed } from "../core/rng";
import type { SacAgent } from "../agents/sac/agent";
import type { ValueEstimate } from "../agents/model-based/config";
import { disposeTerms, VariationalObjective, type PolicyObjective } from "../policy/objective";
import { disposeOptimization } from "../policy/optimizer";
import type { PolicyParams } from "../policy/params";
import type { AnalysisContext } from "./estimator";

/** The estimator's own Rng, a function of (run seed, step, estimator name) only. */
export function estimatorRng(context: Pick<AnalysisContext, "seed" | "step">, name: string): Rng {
  return new Rng(deriveSeed(context.seed, context.step, name));
}

export interface AgentObjectiveOptions {
  /**
   * Which J: "train" (β = betaTrain on the Q-networks the policy trains on, as the gap of A.3 uses) or "act"
   * (β = betaCollect on the Q-networks the agent acts with: online, or the targets with useTargetQForActing).
   */
  purpose: "train" | "act";
  /** N, action samples per J estimate; null: the agent's own `config.samples`. */
  samples: number | null;
  /** The value in J (default: the agent's own); "model-based" needs an agent with a learned model. */
  estimate?: ValueEstimate;
}

/** J (Eq. 7) on the agent's value estimate (Eq. 12, or Eq. 13 for model-based agents) and current α, with noise from `rng`. */
export function agentObjective(agent: SacAgent, rng: Rng, options: AgentObjectiveOptions): VariationalObjective {
  const c = agent.config;
  const train = options.purpose === "train";
  return agent.valueObjective({
    q: agent.qPair((train ? c.useTargetQForPolicy : c.useTargetQForActing) ? "target" : "online"),
    alpha: agent.alpha,
    beta: train ? c.betaTrain : c.betaCollect,
    pessimismStd: c.pessimismStd,
    samples: options.samples ?? c.samples,
    actionSize: agent.spec.actionSize,
    rng,
  }, options.estimate);
}

/**
 * J as the policy trains on it ("train", default) or as the agent acts on it ("act"), scoring every λ of a
 * `batch`-state batch on one noise draw from `rng` (common random numbers).
 */
export function fixedNoiseObjective(agent: SacAgent, rng: Rng, samples: number, batch: number, purpose: AgentObjectiveOptions["purpose"] = "train"): VariationalObjective {
  const objective = agentObjective(agent, rng.fork(), { purpose, samples });
  objective.setFixedNoise(drawFixedNoise(rng, samples, batch, agent.spec.actionSize));
  return objective;
}

/** `samples · batch · |A|` standard normals from `rng`, for `setFixedNoise` (common random numbers). */
export function drawFixedNoise(rng: Rng, samples: number, batch: number, actionSize: number): Float32Array {
  return rng.fillNormal(new Float32Array(samples * batch * actionSize)) as Float32Array;
}

/**
 * The agent's amortized λ for `states` [batch, obs]: f_φ(s) for a direct agent, the acting iterations from λ0
 * for an iterative one (`iterations` overrides), J's noise from `objective`. The caller disposes the result.
 */
export function amortizedLambda(agent: SacAgent, states: tf.Tensor2D, objective: VariationalObjective, iterations?: number): PolicyParams {
  const result = agent.optimizer.optimize(states, objective, { training: false, evaluateFinal: false, iterations });
  const lambda = { mean: result.lambda.mean.clone(), logStd: result.lambda.logStd.clone() };
  disposeOptimization(result);
  return lambda;
}

/** J per state at `lambda` as plain numbers. */
export function objectiveValues(objective: PolicyObjective, states: tf.Tensor2D, lambda: PolicyParams): Float64Array {
  const terms = objective.evaluate(states, lambda);
  const values = Float64Array.from(terms.j.dataSync());
  disposeTerms(terms);
  return values;
}

/** States [count, obs] row-major as a tensor. */
export function statesTensor(states: Float32Array, observationSize: number): tf.Tensor2D {
  return tf.tensor2d(states, [states.length / observationSize, observationSize]);
}
