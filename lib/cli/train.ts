/**
 * `iapo train --env Hopper-v2 --optimizer iterative --iterations 5 [--eval-iterations 10] --seed 0 --steps 1000000 [--preset NAME]
 *            [--resume] [--analyze policy-change,... --analyze-every N]`
 *
 * Trains one SAC agent into data/runs/<experiment>/<run>/ with a progress bar on stderr. Ctrl-C checkpoints
 * and exits cleanly (a second Ctrl-C exits at once); `--resume` continues from the last checkpoint.
 * `--preset` picks the named settings the run starts from; `--analyze` runs the named estimators on the agent
 * as it trains (rows in the run's analysis.jsonl).
 */
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { eachArgument, integer, parseSetting, printedHelp } from "./args";
import { defaultRunsDir } from "../core/paths";
import { formatProgressLine, type Progress } from "../core/progress";
import { activeScale, parseScale } from "../core/scale";
import { estimatorNames } from "../analysis/registry";
import { PRESET_DESCRIPTIONS, PRESET_NAMES } from "../presets/presets";
import { resolveEstimators } from "../train/analyses";
import { buildTrainConfig, type AgentOverrides, type ScheduleOverrides, type TrainConfig } from "../train/config";
import { isScheduleField } from "../train/schedule";
import { train } from "../train/train";

export const TRAIN_USAGE = `iapo train --env NAME [--optimizer direct|iterative] [--iterations N] [--eval-iterations N] [--seed S] [--steps N]
           [--scale smoke|quick|paper] [--preset ${PRESET_NAMES.join("|")}] [--experiment NAME] [--run NAME]
           [--runs-dir DIR] [--resume] [--eval-every N] [--eval-episodes N] [--snapshot-every N]
           [--set field=value ...] [--value model-free|model-based [--horizon H] [--retrace-lambda L]]
           [--analyze NAME,... [--analyze-every N]]
      --iterations sets the iterative optimizer's iterations in training, acting and evaluation; --eval-iterations
      then sets evaluation's alone (test-time iterations: collected data and updates stay the same)
      --preset picks the settings a run starts from (run.json records it and every setting changed from it):
${PRESET_NAMES.map((p) => `          ${p.padEnd(13)}${PRESET_DESCRIPTIONS[p]}`).join("\n")}
      --set changes an agent setting (e.g. betaTrain=2.5) or a schedule setting (e.g. bufferSize=100000)
      --value model-based optimizes Eq. 13's estimate from a learned model (horizon 2, Retrace λ 0.9 unless given)
      --analyze runs estimators on the agent as it trains (known: ${estimatorNames().join(", ") || "none"})`;

export interface TrainArgs {
  env?: string;
  optimizer: string;
  iterations?: number;
  evalIterations?: number;
  seed: number;
  steps?: number;
  scale: ReturnType<typeof activeScale>;
  preset?: string;
  experiment: string;
  run?: string;
  runsDir: string;
  resume: boolean;
  evalEvery?: number;
  evalEpisodes?: number;
  overrides: AgentOverrides;
  schedule: ScheduleOverrides;
  analyze: string[];
  analyzeEvery?: number;
  /** Settings of the model-based estimate given by --horizon and --retrace-lambda. */
  modelBased: { horizon?: number; retraceLambda?: number };
}

export function parseTrainArgs(argv: string[]): TrainArgs {
  const a: TrainArgs = { optimizer: "iterative", seed: 0, scale: activeScale(), experiment: "cli", runsDir: defaultRunsDir(), resume: false, overrides: {}, schedule: {}, analyze: [], modelBased: {} };
  eachArgument(argv, (flag, value) => {
    switch (flag) {
      case "--env": a.env = value(); break;
      case "--optimizer": a.optimizer = value(); break;
      case "--iterations": a.iterations = integer(flag, value(), 1); break;
      case "--eval-iterations": a.evalIterations = integer(flag, value(), 1); break;
      case "--seed": a.seed = integer(flag, value(), 0); break;
      case "--steps": a.steps = integer(flag, value(), 1); break;
      case "--scale": a.scale = parseScale(value(), "--scale"); break;
      case "--preset": a.preset = value(); break;
      case "--experiment": a.experiment = value(); break;
      case "--run": a.run = value(); break;
      case "--runs-dir": a.runsDir = path.resolve(value()); break;
      case "--resume": a.resume = true; break;
      case "--eval-every": a.evalEvery = integer(flag, value(), 1); break;
      case "--eval-episodes": a.evalEpisodes = integer(flag, value(), 1); break;
      case "--snapshot-every": a.schedule.snapshotEvery = integer(flag, value(), 0); break;
      case "--analyze": a.analyze.push(...value().split(",")); break;
      case "--analyze-every": a.analyzeEvery = integer(flag, value(), 1); break;
      case "--value": a.overrides.valueEstimate = value(); break;
      case "--horizon": a.modelBased.horizon = integer(flag, value(), 0); break;
      case "--retrace-lambda": a.modelBased.retraceLambda = unitInterval(flag, value()); break;
      case "--set": {
        const [field, parsed] = parseSetting(flag, value());
        if (isScheduleField(field)) a.schedule[field] = parsed;
        else a.overrides[field] = parsed;
        break;
      }
      default:
        throw new IapoError(`unknown option ${flag} for "iapo train"\nusage: ${TRAIN_USAGE}`);
    }
  });
  if (!a.env) throw new IapoError(`--env is required\nusage: ${TRAIN_USAGE}`);
  if (a.analyzeEvery !== undefined && a.analyze.length === 0) throw new IapoError(`--analyze-every needs --analyze NAME`);
  if (Object.keys(a.modelBased).length > 0 && a.overrides.valueEstimate !== "model-based") throw new IapoError(`--horizon and --retrace-lambda set the model-based estimate: add --value model-based`);
  return a;
}

/** A number in [0, 1] (Retrace's λ), or a clear error naming the flag. */
function unitInterval(flag: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === "" || !(v >= 0 && v <= 1)) throw new IapoError(`${flag} must be a number in [0, 1], got "${raw}"`);
  return v;
}

/** A progress line redrawn in place on a terminal, or printed every 10 s to a log. */
export function terminalProgress(): (p: Progress) => void {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return (p) => {
    const now = Date.now();
    const done = p.done >= p.total;
    if (tty) {
      process.stderr.write(`\r${formatProgressLine(p)}\x1b[K${done ? "\n" : ""}`);
    } else if (done || now - last > 10_000) {
      last = now;
      process.stderr.write(formatProgressLine(p) + "\n");
    }
  };
}

/** The run's config from the parsed arguments: the preset's for the task, then the flags' changes. */
export function trainConfigFromArgs(a: TrainArgs): TrainConfig {
  return buildTrainConfig({
    env: a.env!,
    optimizer: a.optimizer,
    seed: a.seed,
    scale: a.scale,
    preset: a.preset,
    totalSteps: a.steps,
    iterations: a.iterations,
    evalIterations: a.evalIterations,
    evalEvery: a.evalEvery,
    evalEpisodes: a.evalEpisodes,
    schedule: a.schedule,
    agent: a.overrides,
    modelBased: a.modelBased,
  });
}

export async function runTrainCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, TRAIN_USAGE)) return 0;
  const a = parseTrainArgs(argv);
  const config = trainConfigFromArgs(a);
  const analyses = a.analyze.length > 0 ? resolveEstimators(a.analyze) : undefined;
  const runName = a.run ?? `${config.env}_${config.optimizer}${config.agent.valueEstimate === "model-based" ? "_model-based" : ""}_seed${config.seed}`;
  const runDir = path.join(a.runsDir, a.experiment, runName);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write("\ninterrupt: checkpointing at the next step (Ctrl-C again to quit at once)\n");
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSigint);
  try {
    console.error(`run ${runDir}${a.resume ? " (resume)" : ""}`);
    const result = await train(config, {
      runDir, ifExists: a.resume ? "resume" : "error", onProgress: terminalProgress(), signal: controller.signal, analyses, analyzeEvery: a.analyzeEvery,
    });
    console.error(`${result.outcome} at step ${result.step}; last eval return ${result.lastEvalReturn?.toFixed(2) ?? "–"}; logs in ${result.runDir}`);
    return result.outcome === "interrupted" ? 130 : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
