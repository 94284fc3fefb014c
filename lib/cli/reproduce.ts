/**
 * `iapo reproduce`: the paper's main comparison (Figure 5) in one command — direct and iterative SAC on the four
 * MuJoCo tasks over seeds, at a scale, with a preset's settings (Table 5's architectures by default). It is a
 * sweep built in memory and trained by the same local executor as `iapo sweep run`, into
 * <runs-dir>/reproduce-<scale>[-<preset>][-q<arch>]/<run id>/: finished runs are never trained again and
 * interrupted ones resume. Before it starts it prints what each run will cost on this machine, from training
 * speeds measured here (a short probe per distinct setting, cached in <runs-dir>/.training-speed.json).
 */
import * as os from "node:os";
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { defaultRunsDir } from "../core/paths";
import { formatDuration } from "../core/progress";
import { parseScale, type Scale } from "../core/scale";
import { checkPresetName, DEFAULT_PRESET, PAPER_TASKS, PRESET_NAMES, type PresetName } from "../presets";
import {
  estimateRunCost, machineId, measuredSpeeds, planSweep, runProgress, runsToDo, speedKey, validateSweep, type PlannedRun, type SpeedRecord, type SweepFile,
} from "../sweeps";
import { eachArgument, integer, printedHelp } from "./args";
import { trainSweepRuns } from "./sweep";

const DEFAULT_SEEDS: Record<Scale, number> = { smoke: 1, quick: 2, paper: 5 };
const SPEED_CACHE = ".training-speed.json";

export const REPRODUCE_USAGE = `iapo reproduce [--tasks all|${PAPER_TASKS.join(",")}] [--scale smoke|quick|paper] [--seeds N]
               [--steps N] [--preset ${PRESET_NAMES.join("|")}] [--q-architecture A|B] [--analyze NAME,...]
               [--workers N] [--runs-dir DIR] [--probe-steps N] [--remeasure] [--dry-run]
      trains direct and iterative SAC on each task with seeds 0..N-1 (default ${DEFAULT_SEEDS.smoke}/${DEFAULT_SEEDS.quick}/${DEFAULT_SEEDS.paper} by scale) into
      <runs-dir>/reproduce-<scale>[-<preset>][-q<arch>]/; prints each run's cost on this machine first
      (measured: --probe-steps learning steps per distinct setting, cached in <runs-dir>/${SPEED_CACHE});
      rerun it to resume: finished runs are never trained again. --dry-run prints the plan and stops.
      --q-architecture uses one Q architecture on every task instead of Table 5's (recorded in each run's
      overrides where it differs; the folder name says so); --steps sets every run's length`;

export interface ReproduceArgs {
  tasks: string[];
  scale: Scale;
  seeds?: number;
  steps?: number;
  preset: PresetName;
  qArchitecture?: "A" | "B";
  analyses: string[];
  workers: number;
  runsDir: string;
  probeSteps: number;
  remeasure: boolean;
  dryRun: boolean;
}

function parseTasks(value: string): string[] {
  if (value === "all") return [...PAPER_TASKS];
  const tasks = value.split(",").map((t) => t.trim());
  for (const t of tasks) {
    if (!(PAPER_TASKS as readonly string[]).includes(t)) throw new IapoError(`--tasks: "${t}" is not one of the paper's tasks (${PAPER_TASKS.join(", ")}, or all)`);
  }
  return tasks;
}

export function parseReproduceArgs(argv: string[]): ReproduceArgs {
  const a: ReproduceArgs = { tasks: [...PAPER_TASKS], scale: "quick", preset: DEFAULT_PRESET, analyses: [], workers: 1, runsDir: defaultRunsDir(), probeSteps: 100, remeasure: false, dryRun: false };
  eachArgument(argv, (flag, value) => {
    switch (flag) {
      case "--tasks": a.tasks = parseTasks(value()); break;
      case "--scale": a.scale = parseScale(value(), "--scale"); break;
      case "--seeds": a.seeds = integer(flag, value(), 1); break;
      case "--steps": a.steps = integer(flag, value(), 1); break;
      case "--preset": a.preset = checkPresetName(value()); break;
      case "--q-architecture": {
        const arch = value();
        if (arch !== "A" && arch !== "B") throw new IapoError(`--q-architecture must be A or B (Tables 3 and 4), got "${arch}"`);
        a.qArchitecture = arch;
        break;
      }
      case "--analyze": a.analyses.push(...value().split(",")); break;
      case "--workers": a.workers = integer(flag, value(), 1); break;
      case "--runs-dir": a.runsDir = path.resolve(value()); break;
      case "--probe-steps": a.probeSteps = integer(flag, value(), 1); break;
      case "--remeasure": a.remeasure = true; break;
      case "--dry-run": a.dryRun = true; break;
      default:
        throw new IapoError(`unknown option ${flag} for "iapo reproduce"\nusage: ${REPRODUCE_USAGE}`);
    }
  });
  return a;
}

/** The sweep `iapo reproduce` trains, checked like a sweep file. */
export function reproduceSweep(a: ReproduceArgs): SweepFile {
  const name = `reproduce-${a.scale}${a.preset === DEFAULT_PRESET ? "" : `-${a.preset}`}${a.qArchitecture ? `-q${a.qArchitecture}` : ""}`;
  const seeds = Array.from({ length: a.seeds ?? DEFAULT_SEEDS[a.scale] }, (_, k) => k);
  const settings = {
    preset: a.preset,
    ...(a.steps !== undefined ? { totalSteps: a.steps } : {}),
    ...(a.qArchitecture ? { agent: { qArchitecture: a.qArchitecture } } : {}),
  };
  return validateSweep({ name, scale: a.scale, tasks: a.tasks, optimizers: ["direct", "iterative"], seeds, settings, analyses: a.analyses }, "reproduce");
}

/** The plan: one line per run with its state, steps left and cost, then the total. */
function formatPlan(runs: PlannedRun[], root: string, speeds: Map<string, SpeedRecord>, workers: number): string {
  const header = ["run", "state", "steps left", "steps/s", "time", "evaluation (at most)"];
  let total = 0, evalTotal = 0, todo = 0;
  const cells = runs.map((run) => {
    const p = runProgress(root, run);
    if (p.state === "finished" || p.state === "running") return [run.id, p.state, "0", "–", "–", "–"];
    const speed = speeds.get(speedKey(run.config))!.speed;
    const cost = estimateRunCost(run.config, speed, p.step);
    todo++;
    total += cost.randomSeconds + cost.learningSeconds;
    evalTotal += cost.evalSecondsAtMost;
    return [run.id, p.state, String(cost.stepsLeft), speed.learningStepsPerSecond.toFixed(1), formatDuration(cost.randomSeconds + cost.learningSeconds), formatDuration(cost.evalSecondsAtMost)];
  });
  const widths = header.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j].length)));
  const line = (c: string[]): string => c.map((x, j) => x.padEnd(widths[j])).join("  ").trimEnd();
  const cores = os.cpus().length;
  const parallel = workers > 1 ? `; ${workers} workers share this machine's ${cores} cores, so the wall time falls by at most ${Math.min(workers, cores)}x` : "";
  const summary = todo === 0
    ? "nothing to do: every run has finished"
    : `total: ${todo} run${todo === 1 ? "" : "s"} to do, ${formatDuration(total)} of training + at most ${formatDuration(evalTotal)} of evaluation, one run at a time${parallel} (checkpoints and analyses not counted)`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line), summary].join("\n");
}

/** Where the plan departs from Table 5, if --q-architecture asked for it. */
function architectureNote(a: ReproduceArgs, runs: PlannedRun[]): string | null {
  if (!a.qArchitecture) return null;
  const differing = runs.filter((r) => r.config.overrides.includes("agent.qArchitecture"));
  return `Q architecture ${a.qArchitecture} on every task (--q-architecture): ${differing.length} of ${runs.length} runs differ from Table 5, ` +
    `each recorded in its run.json overrides ("agent.qArchitecture")`;
}

export async function runReproduceCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, REPRODUCE_USAGE)) return 0;
  const a = parseReproduceArgs(argv);
  const spec = reproduceSweep(a);
  const runs = planSweep(spec);
  const root = a.runsDir;
  const steps = runs[0].config.schedule.totalSteps;
  console.log(
    `${spec.name}: ${runs.length} runs (${spec.tasks.join(", ")} × direct, iterative × seeds ${spec.seeds.join(", ")}) at ${spec.scale} scale, ` +
    `preset ${a.preset}, ${steps} steps each, into ${path.join(root, spec.name)}`,
  );
  const note = architectureNote(a, runs);
  if (note) console.log(note);
  if (spec.analyses.length) console.log(`analyses on every kept snapshot: ${spec.analyses.join(", ")} (not in the estimate below)`);
  const cacheFile = path.join(root, SPEED_CACHE);
  const { todo } = runsToDo(runs, root);
  const speeds = await measuredSpeeds(todo.map((r) => r.config), cacheFile, {
    probe: { timedSteps: a.probeSteps, warmSteps: Math.min(100, a.probeSteps) },
    remeasure: a.remeasure,
    onProbe: (c, i, n) => console.error(`measuring training speed ${i + 1}/${n} on ${machineId()}: ${c.env} ${c.optimizer}, Q architecture ${c.agent.qArchitecture}, N=${c.agent.samples} (${a.probeSteps} learning steps)`),
    warn: (line) => console.error(line),
  });
  console.log(formatPlan(runs, root, speeds, a.workers));
  if (speeds.size > 0) console.log(`training speeds measured on ${machineId()}, kept in ${cacheFile}`);
  if (a.dryRun) return 0;
  return trainSweepRuns({ executor: "local", workers: a.workers, slurm: {} }, spec, runs, root, "");
}
