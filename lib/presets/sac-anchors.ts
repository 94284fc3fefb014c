/**
 * Published soft actor-critic returns on the paper's tasks at 1M environment steps, for orientation beside this
 * project's runs. They are not the paper's numbers (its Fig 5 is a chart, 3M steps, without a table) and come from
 * other implementations, each as its benchmark reports it:
 * - rl-baselines3-zoo, benchmark.md, SAC: mean deterministic evaluation return;
 * - CleanRL, sac_continuous_action.py benchmark on the v4 tasks: mean training episode return over 3 seeds (no Ant);
 * - Tianshou, examples/mujoco README, SAC: mean over 10 seeds.
 */
import type { PaperTask } from "./paper-tables";

export interface ReturnAnchor {
  /** A table column's name: what was measured and by whom. */
  name: string;
  /** Environment steps the returns were reached at. */
  steps: number;
  /** Return per task, for the tasks the source reports. */
  values: Readonly<Partial<Record<PaperTask, number>>>;
}

export const SAC_ANCHORS_1M: readonly ReturnAnchor[] = [
  { name: "SAC at 1M, rl-baselines3-zoo", steps: 1_000_000, values: { "Hopper-v2": 2326, "HalfCheetah-v2": 9536, "Walker2d-v2": 3863, "Ant-v2": 4616 } },
  { name: "SAC at 1M, CleanRL", steps: 1_000_000, values: { "Hopper-v2": 2311, "HalfCheetah-v2": 9635, "Walker2d-v2": 3592 } },
  { name: "SAC at 1M, Tianshou", steps: 1_000_000, values: { "Hopper-v2": 3542, "HalfCheetah-v2": 12139, "Walker2d-v2": 5007, "Ant-v2": 5850 } },
];
