/**
 * Training throughput: environment steps per second on Hopper-v2 with one SAC update per step (the paper's
 * shapes: batch 256, 2 x 256 networks, Table 5's Q architecture), for the direct and the iterative optimizer,
 * with one sample for J and with the paper preset as it is (10). Runs the real training loop (train/speed.ts);
 * the timed window starts after a random-action warm-up that fills the buffer.
 */
import { initBackend } from "../../backend/select";
import type { ThreadTunerStats } from "../../backend/thread-tuner";
import { buildTrainConfig, type TrainConfig } from "../../train/config";
import { measureTrainingSpeed } from "../../train/speed";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";

const TARGETS: Record<string, string> = { direct: "target >= 120", iterative: "target >= 25 (5 it., N=1)" };

/**
 * Updates before the timed window: V8 optimises the update's JavaScript over its first few dozen calls (a fresh
 * agent's first few dozen direct updates run ~1.5x slower than later ones), and a training run spends all but its
 * first minute past that.
 */
const WARM_UPDATES = 100;

/** Steps per second over `timed` training steps after WARM_UPDATES steps with updates (the training loop as `train` runs it). */
async function stepsPerSecond(config: TrainConfig, timed: number): Promise<{ rate: number; threads: ThreadTunerStats | null }> {
  const speed = await measureTrainingSpeed(config, { timedSteps: timed, warmSteps: WARM_UPDATES });
  return { rate: speed.learningStepsPerSecond, threads: speed.threads };
}

/** "ended on 2 threads, 1 switch in 3 probes": what the thread tuner did during a run, for the figure's note. */
function threadNote(s: ThreadTunerStats | null): string {
  return s ? `; ended on ${s.threads} thread${s.threads > 1 ? "s" : ""}, ${s.switches} switch${s.switches === 1 ? "" : "es"} in ${s.probes} probe${s.probes === 1 ? "" : "s"}` : "";
}

async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const info = await initBackend();
  // 500 steps (5 s direct, ~15 s iterative) average out a shared machine's minute-to-minute load (100 steps move by ~15% from run to run)
  const timed = options.quick ? 20 : 500;
  const figures: BenchFigure[] = [];
  for (const optimizer of ["direct", "iterative"] as const) {
    // the paper's shapes with one sample for J (the figure tracked over time)
    const config = buildTrainConfig({ env: "Hopper-v2", optimizer, seed: 0, scale: "paper", agent: { samples: 1 } });
    const { rate, threads } = await stepsPerSecond(config, timed);
    figures.push({ suite: "training", name: `Hopper-v2 ${optimizer}, steps incl. updates`, variant: info.name, value: rate, unit: "steps/s", note: TARGETS[optimizer] + threadNote(threads) });
  }
  figures.push(...(await paperPresetSteps(info.name, timed)));
  return figures;
}

/** Hopper-v2 training steps per second with the paper preset as it is (10 samples for J, direct included). */
async function paperPresetSteps(variant: string, timed: number): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const optimizer of ["direct", "iterative"] as const) {
    const config = buildTrainConfig({ env: "Hopper-v2", optimizer, seed: 0, scale: "paper", preset: "paper" });
    const { rate, threads } = await stepsPerSecond(config, timed);
    figures.push({ suite: "training", name: `Hopper-v2 ${optimizer}, paper preset (N=${config.agent.samples}), steps incl. updates`, variant, value: rate, unit: "steps/s", note: threadNote(threads).replace(/^; /, "") });
  }
  return figures;
}

export const trainingSuite: BenchSuite = {
  name: "training",
  description: "Hopper-v2 training steps per second, one SAC update per step, direct and iterative",
  run,
};
