/**
 * The paper's own numbers (Appendix A.4): Table 6's training hyperparameters, Table 5's Q architecture per task
 * and optimizer, A.4's pessimism β, and which tasks the paper tuned at all. The small tasks of this project
 * (Pendulum, PointReach) are not in the paper; they keep their own settings (β = 1, the "layer+scale" input
 * normalisation), named here too.
 */
import type { QArchitecture } from "../nn/architectures";
import type { InputNormalization } from "../policy/input-normalization";

/** Table 6: training hyperparameters, the same for every task and optimizer. */
export const TABLE6 = {
  /** Discount factor γ. */
  gamma: 0.99,
  /** Q-network update rate τ (Polyak). */
  tau: 5e-3,
  /** Adam's learning rate for every network and the temperature. */
  learningRate: 3e-4,
  batchSize: 256,
  initialRandomSteps: 5_000,
  replayBufferSize: 1_000_000,
} as const;

/**
 * Tables 7-8: the learned model's networks (2 x 256, Leaky ReLU, layer norm) and the model-based estimate's
 * settings (Sec. 4.2.5, A.5): horizon h, Retrace's λ, pre-training updates, model-based value targets.
 */
export const TABLE7_8 = {
  hiddenSizes: [256, 256],
  horizon: 2,
  retraceLambda: 0.9,
  pretrainUpdates: 1_000,
  valueTargets: true,
} as const;

/** Iterations of the iterative optimizer per training update, when acting and when evaluating ("unless otherwise stated, we use 5 iterations per time step", Sec. 4). */
export const PAPER_ITERATIONS = 5;

/** Table 5: the better-performing Q architecture per task (by base name) and optimizer. */
export const TABLE5_Q_ARCHITECTURE: Readonly<Record<string, { direct: QArchitecture; iterative: QArchitecture }>> = {
  Hopper: { direct: "A", iterative: "A" },
  HalfCheetah: { direct: "B", iterative: "A" },
  Walker2d: { direct: "A", iterative: "B" },
  Ant: { direct: "B", iterative: "B" },
};

/** The four MuJoCo tasks the paper trains on (Sec. 4, Figure 5). */
export const PAPER_TASKS = ["Hopper-v2", "HalfCheetah-v2", "Walker2d-v2", "Ant-v2"] as const;
export type PaperTask = (typeof PAPER_TASKS)[number];

/** "Hopper-v2" -> "Hopper". */
export function envBaseName(envName: string): string {
  return envName.replace(/-v\d+$/, "");
}

/** True for the paper's MuJoCo tasks; the small tutorial tasks are not in the paper, so its tuning does not apply. */
export function isPaperTask(envName: string): envName is PaperTask {
  return (PAPER_TASKS as readonly string[]).includes(envName);
}

/** Table 5's choice for this environment and optimizer; architecture A for environments not in the table. */
export function qArchitectureFor(envName: string, optimizer: "direct" | "iterative"): QArchitecture {
  return TABLE5_Q_ARCHITECTURE[envBaseName(envName)]?.[optimizer] ?? "A";
}

/**
 * A.4: β in training for the iterative optimizer (1.5 on Hopper, 2.5 on the other MuJoCo tasks); 1 for direct.
 * The small tasks get SAC's β = 1: the paper tuned 2.5 to MuJoCo's value scales.
 */
export function paperBetaTrain(envName: string, optimizer: string): number {
  if (optimizer !== "iterative" || !isPaperTask(envName)) return 1;
  return envBaseName(envName) === "Hopper" ? 1.5 : 2.5;
}

/**
 * The iterative optimizer's input normalisation: the paper's layer norm per input on its tasks. On the small
 * tasks (1-2 action dimensions) layer norm of λ and ∇λJ is zero or ±1 whatever their values, so they get
 * "layer+scale", which keeps each input's mean and scale (docs/algorithms.md).
 */
export function defaultInputNormalization(envName: string): InputNormalization {
  return isPaperTask(envName) ? "layer" : "layer+scale";
}
