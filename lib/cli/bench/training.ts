/**
 * Training throughput: environment steps per second on Hopper-v2 with one SAC update per step (the paper's
 * shapes: batch 256, 2 x 256 networks, Table 5's Q architecture), for the direct and the iterative optimizer.
 * Runs the real training loop; the timed window starts after a random-action warm-up that fills the buffer.
 */
import { SacAgent } from "../../agents/sac/agent";
import { ReplayBuffer } from "../../agents/replay-buffer";
import { initBackend } from "../../backend/select";
import { autoThreadTuner, type ThreadTunerStats } from "../../backend/thread-tuner";
import { Rng } from "../../core/rng";
import { makeEnv } from "../../envs";
import { buildTrainConfig } from "../../train/config";
import { initialLoop, runLoop } from "../../train/loop";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";

const TARGETS: Record<string, string> = { direct: "target >= 120", iterative: "target >= 25 (5 it., N=1)" };

/**
 * Updates before the timed window: V8 optimises the update's JavaScript over its first few dozen calls (a fresh
 * agent's first few dozen direct updates run ~1.5x slower than later ones), and a training run spends all but its
 * first minute past that.
 */
const WARM_UPDATES = 100;

/** Steps per second over `timed` training steps after `warmup` steps (random actions, then WARM_UPDATES with updates). */
async function stepsPerSecond(envName: string, optimizer: "direct" | "iterative", warmup: number, timed: number): Promise<{ rate: number; threads: ThreadTunerStats | null }> {
  const config = buildTrainConfig({ env: envName, optimizer, seed: 0, scale: "paper" });
  const randomSteps = Math.max(1, warmup - WARM_UPDATES); // updates also wait for a full batch in the buffer
  const agentConfig = { ...config.agent, samples: 1 };
  const env = await makeEnv(envName);
  const evalEnv = await makeEnv(envName);
  const agent = SacAgent.create(agentConfig, { observationSize: env.observationSize, actionSize: env.actionSize }, new Rng(0));
  const buffer = new ReplayBuffer(warmup + timed, env.observationSize, env.actionSize);
  let rate = NaN;
  // as `iapo train` runs: the native threads follow the updates' timings (one thread while the host steals the second core)
  const threads = autoThreadTuner();
  try {
    await runLoop(
      { seed: 0, totalSteps: warmup + timed, initialRandomSteps: randomSteps, batchSize: agentConfig.batchSize, updatesPerStep: 1, evalEvery: warmup + timed, evalEpisodes: 0, logEvery: timed, checkpointEvery: warmup + timed },
      env,
      agent,
      buffer,
      initialLoop(0, env),
      {
        label: "bench",
        evalEnv,
        // the row logged at the end of the run covers exactly the timed steps (warmup is a multiple of timed)
        log: (row) => {
          if (row.step === warmup + timed) rate = row["time/steps_per_s"] as number;
        },
        checkpoint: () => undefined,
        threads,
      },
    );
  } finally {
    threads?.finish();
    agent.dispose();
    env.dispose();
    evalEnv.dispose();
  }
  return { rate, threads: threads?.stats() ?? null };
}

/** "ended on 2 threads, 1 switch in 3 probes": what the thread tuner did during a run, for the figure's note. */
function threadNote(s: ThreadTunerStats | null): string {
  return s ? `; ended on ${s.threads} thread${s.threads > 1 ? "s" : ""}, ${s.switches} switch${s.switches === 1 ? "" : "es"} in ${s.probes} probe${s.probes === 1 ? "" : "s"}` : "";
}

async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const info = await initBackend();
  // 500 steps (5 s direct, ~15 s iterative) average out a shared machine's minute-to-minute load (100 steps move by ~15% from run to run)
  const timed = options.quick ? 20 : 500;
  const warmup = Math.max(3, Math.ceil(300 / timed)) * timed; // >= batch size, a multiple of the window
  const figures: BenchFigure[] = [];
  for (const optimizer of ["direct", "iterative"] as const) {
    const { rate, threads } = await stepsPerSecond("Hopper-v2", optimizer, warmup, timed);
    figures.push({ suite: "training", name: `Hopper-v2 ${optimizer}, steps incl. updates`, variant: info.name, value: rate, unit: "steps/s", note: TARGETS[optimizer] + threadNote(threads) });
  }
  return figures;
}

export const trainingSuite: BenchSuite = {
  name: "training",
  description: "Hopper-v2 training steps per second, one SAC update per step, direct and iterative",
  run,
};
