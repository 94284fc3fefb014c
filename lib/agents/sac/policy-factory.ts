/** The policy optimizer a SAC config names, built for an agent (SacAgent.create's default factory). */
import type { Rng } from "../../core/rng";
import { POLICY_NETWORK } from "../../nn/architectures";
import type { MlpBody } from "../../nn/mlp";
import { CemOptimizer, DEFAULT_CEM_CONFIG } from "../../policy/cem";
import { DirectAmortizedOptimizer } from "../../policy/direct";
import { GradientAscentOptimizer } from "../../policy/gradient-ascent";
import { IterativeAmortizedOptimizer } from "../../policy/iterative";
import type { PolicyOptimizer } from "../../policy/optimizer";
import type { SacConfig } from "./config";
import type { AgentSpec } from "./state";

/** Makes an agent's policy optimizer, its network (if any) initialised from `rng`. */
export type PolicyOptimizerFactory = (config: SacConfig, spec: AgentSpec, rng: Rng) => PolicyOptimizer;

/** The policy optimizer `config.optimizer` names, with `config`'s settings. */
export const buildPolicyOptimizer: PolicyOptimizerFactory = (config, spec, rng) => {
  const network: MlpBody = { ...POLICY_NETWORK, hiddenSizes: config.policyHiddenSizes.slice(), activation: config.policyActivation };
  switch (config.optimizer) {
    case "direct":
      return new DirectAmortizedOptimizer({ network, logStdBounds: config.logStdBounds, init: config.networkInit }, spec.observationSize, spec.actionSize, rng);
    case "iterative":
      return new IterativeAmortizedOptimizer(
        {
          network,
          trainIterations: config.iterations.train,
          actIterations: config.iterations.act,
          initialStd: config.initialStd,
          inputNormalization: config.inputNormalization,
          normalizeState: config.normalizeStateInput,
          logStdBounds: config.logStdBounds,
          init: config.networkInit,
        },
        spec.observationSize,
        spec.actionSize,
        rng,
      );
    case "gradient":
      return new GradientAscentOptimizer({ learningRate: config.gradientLearningRate, iterations: config.iterations.train, initialStd: config.initialStd }, spec.actionSize);
    case "cem":
      return new CemOptimizer({ ...DEFAULT_CEM_CONFIG, ...config.cem, iterations: config.iterations.train, initialStd: config.initialStd }, spec.actionSize, rng.fork());
  }
};
