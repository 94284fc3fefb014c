/** The paper's network shapes (Appendix A.4, Tables 2-5). */
import type { MlpBody } from "./mlp";

/** Table 2: both the direct and the iterative policy networks. */
export const POLICY_NETWORK: MlpBody = { hiddenSizes: [256, 256], activation: "relu", layerNorm: false, connectivity: "sequential" };

/** Q-value network architectures: A (Table 3, as Haarnoja et al. 2018b) and B (Table 4). */
export type QArchitecture = "A" | "B";

export const Q_ARCHITECTURES: Record<QArchitecture, MlpBody> = {
  A: { hiddenSizes: [256, 256], activation: "relu", layerNorm: false, connectivity: "sequential" },
  B: { hiddenSizes: [512, 512, 512], activation: "elu", layerNorm: true, connectivity: "highway" },
};

/** Table 5: the better-performing Q architecture per environment (by base name) and optimizer. */
export const TABLE5_Q_ARCHITECTURE: Record<string, { direct: QArchitecture; iterative: QArchitecture }> = {
  Hopper: { direct: "A", iterative: "A" },
  HalfCheetah: { direct: "B", iterative: "A" },
  Walker2d: { direct: "A", iterative: "B" },
  Ant: { direct: "B", iterative: "B" },
};

/** "Hopper-v2" -> "Hopper". */
export function envBaseName(envName: string): string {
  return envName.replace(/-v\d+$/, "");
}

/** Table 5's choice for this environment and optimizer; architecture A for environments not in the table. */
export function qArchitectureFor(envName: string, optimizer: "direct" | "iterative"): QArchitecture {
  return TABLE5_Q_ARCHITECTURE[envBaseName(envName)]?.[optimizer] ?? "A";
}
