/** The paper's network shapes (Appendix A.4, Tables 2-4); which Q architecture a task uses is a preset's choice. */
import type { MlpBody } from "./mlp";

/** Table 2: both the direct and the iterative policy networks. */
export const POLICY_NETWORK: MlpBody = { hiddenSizes: [256, 256], activation: "relu", layerNorm: false, connectivity: "sequential" };

/** Q-value network architectures: A (Table 3, as Haarnoja et al. 2018b) and B (Table 4). */
export type QArchitecture = "A" | "B";

export const Q_ARCHITECTURES: Record<QArchitecture, MlpBody> = {
  A: { hiddenSizes: [256, 256], activation: "relu", layerNorm: false, connectivity: "sequential" },
  B: { hiddenSizes: [512, 512, 512], activation: "elu", layerNorm: true, connectivity: "highway" },
};
