/** The small model-based runs the model-based train tests share (Pendulum, smoke scale, tiny networks). */
import { buildTrainConfig, type TrainConfig } from "../../lib/train";

/**
 * A tiny model-based run: random phase, pre-training, updates, checkpoints, snapshots; the direct one with two
 * evaluations. The iterative one is shorter, with one iteration and no evaluation: on the tfjs path every one of
 * its acts and updates runs the rollout with gradients (about 0.2 and 0.5 s each on a loaded 2-core machine).
 */
export function tinyModelBasedConfig(optimizer: "direct" | "iterative"): TrainConfig {
  const iterative = optimizer === "iterative";
  return buildTrainConfig({
    env: "Pendulum-v1", optimizer, seed: 7, scale: "smoke", totalSteps: iterative ? 80 : 160, evalEvery: 80, evalEpisodes: iterative ? 0 : 1,
    schedule: { initialRandomSteps: 40, logEvery: 10, checkpointEvery: iterative ? 20 : 40, snapshotEvery: iterative ? 40 : 80 },
    agent: {
      valueEstimate: "model-based", batchSize: 16, policyHiddenSizes: [16, 16], samples: 2,
      iterations: iterative ? { train: 1, act: 1, eval: 1 } : { train: 2, act: 2, eval: 2 },
    },
    modelBased: { hiddenSizes: [16, 16], pretrainUpdates: 20 },
  });
}

