/**
 * `iapo sweep plan|run|status FILE`: expand a sweep file into runs, train them with one of the executors (a local
 * process pool, a BullMQ queue on Redis, a Slurm job array), and show where every run stands.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { defaultRunsDir } from "../core/paths";
import { eachArgument, integer } from "./args";
import {
  bullmqExecutor, EXECUTORS, formatRunTable, formatSweepProgress, loadSweepFile, localExecutor, planSweep, runProgress,
  runsToDo, slurmExecutor, validateSweep, type Executor, type ExecutorName, type PlannedRun, type SlurmResources, type SweepFile,
} from "../sweeps";

export const SWEEP_USAGE = `iapo sweep plan FILE [--runs-dir DIR]
iapo sweep run FILE [--executor local|bullmq|slurm] [--runs-dir DIR] [--workers N] [--redis URL]
           [--cpus-per-task N] [--mem 4G] [--time HH:MM:SS] [--partition NAME] [--requeue-before SECONDS] [--max-running N]
iapo sweep status FILE [--executor local|bullmq|slurm] [--redis URL] [--runs-dir DIR] [--watch [SECONDS]]`;

/** Which executor trains a sweep's runs, and its settings. */
export interface ExecutorArgs {
  executor: ExecutorName;
  workers?: number;
  redis?: string;
  slurm: SlurmResources;
}

interface SweepArgs extends ExecutorArgs {
  action: "plan" | "run" | "status";
  file: string;
  runsDir: string;
  watch: number | null;
}

export function parseSweepArgs(argv: string[]): SweepArgs {
  const [action, file, ...rest] = argv;
  if (action !== "plan" && action !== "run" && action !== "status") throw new IapoError(`iapo sweep needs plan, run or status, got ${JSON.stringify(action ?? "")}\nusage:\n${SWEEP_USAGE}`);
  if (file === undefined || file.startsWith("--")) throw new IapoError(`iapo sweep ${action} needs a sweep file (.yaml, .yml or .json)\nusage:\n${SWEEP_USAGE}`);
  const a: SweepArgs = { action, file, executor: "local", runsDir: defaultRunsDir(), slurm: {}, watch: null };
  eachArgument(rest, (flag, value, peek) => {
    const int = (min: number): number => integer(flag, value(), min);
    switch (flag) {
      case "--executor": {
        const e = value();
        if (!(EXECUTORS as readonly string[]).includes(e)) throw new IapoError(`unknown executor "${e}"; known: ${EXECUTORS.join(", ")}`);
        a.executor = e as ExecutorName;
        break;
      }
      case "--runs-dir": a.runsDir = path.resolve(value()); break;
      case "--workers": a.workers = int(1); break;
      case "--redis": a.redis = value(); break;
      case "--cpus-per-task": a.slurm.cpusPerTask = int(1); break;
      case "--mem": a.slurm.mem = value(); break;
      case "--time": a.slurm.time = value(); break;
      case "--partition": a.slurm.partition = value(); break;
      case "--requeue-before": a.slurm.requeueBefore = int(1); break;
      case "--max-running": a.slurm.maxRunning = int(1); break;
      case "--watch": {
        const next = peek();
        a.watch = next !== undefined && !next.startsWith("--") ? int(1) : 5;
        break;
      }
      default:
        throw new IapoError(`unknown option ${flag} for "iapo sweep ${action}"\nusage:\n${SWEEP_USAGE}`);
    }
  });
  if (a.executor === "bullmq" && a.redis === undefined && a.action !== "plan") throw new IapoError("--executor bullmq needs --redis URL (e.g. redis://127.0.0.1:6379)");
  return a;
}

async function openExecutor(a: ExecutorArgs, spec: SweepFile, signal?: AbortSignal): Promise<Executor> {
  switch (a.executor) {
    case "local":
      return localExecutor({
        workers: a.workers,
        signal,
        onDone: (id, outcome, message) => console.error(`${id}: ${outcome}${outcome === "finished" ? "" : ` — ${message}`}`),
      });
    case "bullmq":
      return bullmqExecutor(a.redis!);
    case "slurm":
      return slurmExecutor(loadResources(spec, a.slurm));
  }
}

function loadResources(spec: SweepFile, flags: SlurmResources): SlurmResources {
  const merged = { ...spec.slurm, ...flags };
  // values from flags pass the same checks as the file's
  return validateSweep({ name: spec.name, scale: spec.scale, tasks: spec.tasks, optimizers: spec.optimizers, seeds: spec.seeds, slurm: merged }, "flags").slurm;
}

function table(runs: PlannedRun[], root: string, engine?: Map<string, string>): string {
  const rows = runs.map((r) => runProgress(root, r));
  return `${formatRunTable(rows, engine)}\n${formatSweepProgress(rows)}`;
}

export async function runSweepCommand(argv: string[]): Promise<number> {
  const a = parseSweepArgs(argv);
  const spec = loadSweepFile(a.file);
  const runs = planSweep(spec);
  const root = a.runsDir;
  if (a.action === "plan") {
    console.log(`sweep ${spec.name}: ${runs.length} runs at ${spec.scale} scale into ${path.join(root, spec.name)}${spec.analyses.length ? `; analyses: ${spec.analyses.join(", ")}` : ""}`);
    console.log(table(runs, root));
    return 0;
  }
  if (a.action === "status") {
    const executor = a.executor === "local" ? null : await openExecutor(a, spec);
    try {
      for (;;) {
        const engine = executor ? await executor.engineStatus(spec, runs, root) : undefined;
        const text = `sweep ${spec.name} (${runs.length} runs) at ${new Date().toISOString()}\n${table(runs, root, engine)}`;
        if (a.watch === null) {
          console.log(text);
          return 0;
        }
        console.log(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
        await new Promise((r) => setTimeout(r, a.watch! * 1000));
      }
    } finally {
      await executor?.close();
    }
  }
  return trainSweepRuns(a, spec, runs, root, `iapo sweep status ${a.file} --executor ${a.executor}${a.redis ? " --redis URL" : ""} --watch`);
}

/**
 * Hands a sweep's unfinished runs to the executor `a` names (finished runs and runs a trainer holds are left
 * alone) and, for the local pool, trains them here with a progress line now and then; Ctrl-C checkpoints the runs
 * in progress. Returns the exit code: 0 when every run finished (or, for queues, was submitted).
 */
export async function trainSweepRuns(a: ExecutorArgs, spec: SweepFile, runs: PlannedRun[], root: string, statusCommand: string): Promise<number> {
  const controller = new AbortController();
  const onSigint = (): void => {
    console.error("\ninterrupt: checkpointing the runs in progress");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const executor = await openExecutor(a, spec, controller.signal);
  fs.mkdirSync(root, { recursive: true }); // only once the engine is reachable: a refused sweep writes nothing
  try {
    const { todo, skipped } = runsToDo(runs, root);
    console.error(`sweep ${spec.name}: ${runs.length} runs, ${todo.length} to do, executor ${executor.name}`);
    // the local pool trains in the foreground: show the sweep's progress now and then
    const ticker = executor.name === "local" ? setInterval(() => console.error(formatSweepProgress(runs.map((r) => runProgress(root, r)))), 10_000) : null;
    ticker?.unref();
    const report = await executor.submit(spec, todo, root).finally(() => ticker && clearInterval(ticker));
    for (const s of [...skipped, ...report.skipped]) console.error(`skipped ${s.id}: ${s.note}`);
    if (executor.name !== "local") {
      for (const s of report.submitted) console.error(`submitted ${s.id}: ${s.note}`);
      console.error(`${report.submitted.length} submitted; follow with: ${statusCommand}`);
      return 0;
    }
    console.log(table(runs, root));
    return runs.every((r) => runProgress(root, r).state === "finished") ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
    await executor.close();
  }
}
