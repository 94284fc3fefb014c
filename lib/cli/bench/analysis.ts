/**
 * Time per estimator at the paper's settings on Hopper-v2 with paper-sized networks (2 x 256 policy, the
 * task's Q architecture, 10 action samples), on freshly initialised agents (the cost does not depend on the
 * weights; episode lengths do, so on-policy state collection is timed on its own). Targets on the 2-core machine:
 * amortization gap for a direct agent (100 states, 100 Adam steps, 10 samples) <= 3 s; a 50 x 50 landscape <= 2 s.
 */
import { initBackend } from "../../backend/select";
import { SacAgent } from "../../agents/sac/agent";
import { defaultSacConfig } from "../../presets/presets";
import { Rng } from "../../core/rng";
import { makeEnv } from "../../envs/registry";
import { agentObjective, estimatorRng } from "../../analysis/agent-objective";
import { makeEstimator } from "../../analysis/registry";
import { collectOnPolicyStates } from "../../analysis/rollouts";
import type { BenchFigure, BenchSuite } from "./types";

const ENV = "Hopper-v2";

async function hopperAgent(kind: "direct" | "iterative"): Promise<SacAgent> {
  const env = await makeEnv(ENV);
  const spec = { observationSize: env.observationSize, actionSize: env.actionSize };
  env.dispose();
  return SacAgent.create(defaultSacConfig(ENV, kind, "paper"), spec, new Rng(0));
}

/** Seconds one estimator run takes (its own state collection included). */
async function timeEstimator(agent: SacAgent, name: string, settings: Record<string, unknown>): Promise<{ seconds: number; rows: number }> {
  const t0 = performance.now();
  const rows = await makeEstimator(name, settings).run({ agent, env: ENV, step: 0, seed: 0, runDir: null });
  return { seconds: (performance.now() - t0) / 1000, rows: rows.length };
}

export const analysisSuite: BenchSuite = {
  name: "analysis",
  description: `estimators at the paper's settings on ${ENV} (paper-sized networks, untrained agents)`,
  async run({ quick }): Promise<BenchFigure[]> {
    const backend = (await initBackend()).name;
    const figures: BenchFigure[] = [];
    const fig = (name: string, kind: string, value: number, unit: string, note?: string): void => {
      const figure = { suite: "analysis", name, variant: `${kind}, ${backend}`, value, unit, ...(note ? { note } : {}) };
      figures.push(figure);
      console.error(`bench: analysis: ${name} (${figure.variant}): ${value.toFixed(2)} ${unit}`); // partial results survive an interrupted run
    };
    const states = quick ? 20 : 100;
    for (const kind of ["direct", "iterative"] as const) {
      const agent = await hopperAgent(kind);
      try {
        const rng = estimatorRng({ seed: 0, step: 0 }, "bench");
        const t0 = performance.now();
        await collectOnPolicyStates(agent, ENV, agentObjective(agent, rng.fork(), { purpose: "act", samples: null }), rng, { count: states, maxEpisodes: 50 });
        const collect = (performance.now() - t0) / 1000;
        fig(`${states} on-policy states (evaluation episodes)`, kind, collect, "s", "part of every estimator below");
        const gap = await timeEstimator(agent, "amortization-gap", { states });
        fig(`amortization gap: ${states} states, 100 Adam steps, 10 samples`, kind, gap.seconds, "s", kind === "direct" ? `target <= 3 (${states === 100 ? "" : "100 states; "}ascent ${(gap.seconds - collect).toFixed(2)} s)` : "with the +5 iterations variant (two ascents)");
        if (kind === "direct" || !quick) {
          const land = await timeEstimator(agent, "landscape", { resolution: 50 });
          fig("landscape 50 x 50 grid (one state)", kind, land.seconds, "s", kind === "direct" ? "target <= 2" : "with a 5-step trajectory");
        }
        if (kind === "iterative") {
          fig(`multiple estimates: ${states} states, 2 runs`, kind, (await timeEstimator(agent, "multiple-estimates", { states })).seconds, "s");
          fig(`per-iteration trace: ${states} states`, kind, (await timeEstimator(agent, "per-iteration", { states })).seconds, "s");
          const iterations = quick ? 20 : 100;
          fig(`optimizer comparison: ${states} states, ${iterations} iterations x (iterative, Adam, action CEM)`, kind, (await timeEstimator(agent, "optimizer-comparison", { states, iterations })).seconds, "s");
        }
        // Test-time optimization runs the refinement on every evaluation step: time a short episode and scale.
        const steps = quick ? 10 : 50;
        const plain = await timeEstimator(agent, "test-time", { episodes: 1, timeLimit: steps });
        fig(`test-time (${kind === "direct" ? "Adam +50" : "iterative +5"}), per evaluation step`, kind, (plain.seconds / steps) * 1000, "ms/step", `plain + refined episode of <= ${steps} steps; a 1000-step evaluation of 5 episodes costs ~5000x this`);
      } finally {
        agent.dispose();
      }
    }
    return figures;
  },
};
