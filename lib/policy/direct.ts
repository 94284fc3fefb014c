/** Direct amortization (Eq. 9): λ ← f_φ(s), one network pass; trained by ascending J (Algorithm 1). */
import { tf } from "../backend/tf";
import type { Rng } from "../core/rng";
import type { NetworkInit } from "../nn/init";
import type { MlpBody } from "../nn/mlp";
import { MlpModel } from "../nn/mlp-model";
import { POLICY_NETWORK } from "../nn/architectures";
import type { PolicyObjective } from "./objective";
import type { FusedPolicyForm, OptimizeOptions, PolicyOptimization, PolicyOptimizer } from "./optimizer";
import { keepOptimization, keepTerms } from "./optimizer";
import { boundLogStd, checkLogStdBounds, type LogStdBounds, type PolicyParams } from "./params";

export interface DirectOptimizerConfig {
  /** Policy network body (Table 2: 2 x 256 ReLU). */
  network: MlpBody;
  /** How the output log σ is bounded (default "hard-clip"; "soft-clamp": the authors' code). */
  logStdBounds?: LogStdBounds;
  /** How the network starts (default "fan-in-uniform"; "xavier": the authors' code, whose output head starts at zero). */
  init?: NetworkInit;
}

export const DEFAULT_DIRECT_CONFIG: DirectOptimizerConfig = { network: POLICY_NETWORK };

export class DirectAmortizedOptimizer extends MlpModel implements PolicyOptimizer {
  readonly kind = "direct" as const;

  constructor(
    readonly config: DirectOptimizerConfig,
    readonly observationSize: number,
    readonly actionSize: number,
    rng: Rng,
  ) {
    const init = config.init ?? "fan-in-uniform";
    super({ ...config.network, inputSize: observationSize, outputSize: 2 * actionSize, outputInit: init === "xavier" ? "zeros" : "fan-in-uniform", init }, rng);
    checkLogStdBounds(this.logStdBounds, "direct.logStdBounds");
  }

  private get logStdBounds(): LogStdBounds {
    return this.config.logStdBounds ?? "hard-clip";
  }

  /** λ = f_φ(s): [batch, obs] -> μ, log σ [batch, |A|] (log σ bounded: logStdBounds). */
  policyParams(states: tf.Tensor2D): PolicyParams {
    return tf.tidy(() => {
      const out = this.mlp.apply(states);
      const [mean, logStd] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      return { mean, logStd: boundLogStd(logStd, this.logStdBounds) };
    });
  }

  optimize(states: tf.Tensor2D, objective: PolicyObjective, options: OptimizeOptions = {}): PolicyOptimization {
    const lambda = this.policyParams(states);
    const terms = options.evaluateFinal === false && !options.training ? null : keepTerms(tf.tidy(() => objective.evaluate(states, lambda)));
    const loss = options.training && terms ? tf.tidy(() => tf.neg(tf.mean(terms.j)) as tf.Scalar) : null;
    return keepOptimization({ lambda, trace: [{ lambda, terms }], loss });
  }

  fusedForm(): FusedPolicyForm {
    return { kind: "direct", layers: this.heapLayers(), logStdBounds: this.logStdBounds };
  }
}
