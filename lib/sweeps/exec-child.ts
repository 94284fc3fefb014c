/**
 * The process one run trains in. Two ways in:
 * - warm (`node exec-child.js [--warm-envs A,B]`, forked with an IPC channel by a local pool or a queue worker):
 *   before any job exists it loads the library, starts the tensor backend and loads the named tasks' engine
 *   (MuJoCo); then it says `ready`, takes exactly one job over IPC, trains it and exits. The parent forks it while
 *   the previous run still trains, so a run does not wait for a process to start; one process per run still means
 *   a crash or NaN ends only that run.
 * - cold (`node exec-child.js --runs-root DIR --jobs FILE --index N`): a Slurm array task, entry N of the
 *   submitted job list.
 * SIGTERM (Slurm's pre-emption and requeue signal), SIGINT, or losing its parent checkpoint the run and exit; a warm
 * process that has no job yet just exits. SIGUSR2 in a Slurm array task (the sweep's `slurm.requeueBefore`: the
 * time limit is near) checkpoints the run and requeues the task, which resumes it in its next allocation.
 *
 * Exit codes: 0 finished (or already finished), 3 interrupted (resumable, or stopped before a job came),
 * 4 job refused, 1 training failed.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { initBackend } from "../backend/select";
import { IapoError } from "../core/errors";
import { isEnvName, makeEnv } from "../envs/registry";
import { executeJob } from "./execute";
import { checkRunsRoot } from "./folders";

export const EXIT = { finished: 0, failed: 1, interrupted: 3, refused: 4 } as const;

/** Progress sent to the parent through the IPC channel. */
export interface ChildProgress {
  type: "progress";
  step: number;
  total: number;
  stepsPerSecond: number;
  lastEvalReturn: number | null;
}

/** A warm child's word that it has loaded everything and waits for its job. */
export interface ChildReady {
  type: "ready";
  /** CPU seconds (user + system) its start-up took: the cost moved off the run's critical path. */
  cpuSeconds: number;
}

/** A warm child's word that it has its job: from here on the run is its own, whatever happens to it. */
export interface ChildTaken {
  type: "taken";
}

/** A child's last word: the CPU seconds it used in all (start-up and run), so its parent can tell the two apart. */
export interface ChildDone {
  type: "done";
  cpuSeconds: number;
}

/** The one job a warm child takes, sent by its parent. */
export interface ChildJob {
  type: "job";
  job: unknown;
  runsRoot: string;
}

function arg(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Entry N of a submitted job list (a Slurm array task). */
function jobFromList(argv: string[]): unknown {
  const file = arg(argv, "--jobs"), index = Number(arg(argv, "--index"));
  if (file === undefined || !Number.isInteger(index) || index < 0) throw new IapoError("usage: exec-child --runs-root DIR --jobs FILE --index N (or forked warm, with an IPC channel)");
  const jobs = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  if (!Array.isArray(jobs) || index >= jobs.length) throw new IapoError(`${file} has no job ${index}`);
  return jobs[index];
}

/**
 * Everything a run needs before its first step that does not depend on the run itself: the backend and the tasks'
 * engine. Failures are left for the job to meet: train starts the backend and makes its env again, and reports a
 * problem as it would in a cold process.
 *
 * A fresh process's run still takes more CPU than the same run in a process that has trained for a while: V8 keeps
 * optimising the hot code over many runs. Rehearsing a short run while warming does not shorten the run that
 * follows (the sweeps bench shows what is left), so children do not rehearse.
 */
async function warmUp(envs: string[]): Promise<void> {
  await initBackend().catch(() => undefined);
  for (const name of envs.filter(isEnvName)) {
    const env = await makeEnv(name).catch(() => null);
    env?.dispose();
  }
}

/** The job sent over IPC, or null if the parent went away or a signal came first. */
function awaitJob(stopped: AbortSignal): Promise<ChildJob | null> {
  return new Promise((resolve) => {
    const onMessage = (m: ChildJob): void => {
      if (m && m.type === "job") done(m);
    };
    const onStop = (): void => done(null);
    const done = (m: ChildJob | null): void => {
      process.off("message", onMessage);
      stopped.removeEventListener("abort", onStop);
      resolve(m);
    };
    process.on("message", onMessage);
    if (stopped.aborted) done(null);
    else stopped.addEventListener("abort", onStop, { once: true });
  });
}

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let training = false;
  let requeue = false; // set by the time-limit signal of an array task
  const stop = (why: string) => (): void => {
    if (training && !controller.signal.aborted) process.stderr.write(`${why}: checkpointing and stopping\n`);
    controller.abort();
  };
  process.on("SIGTERM", stop("SIGTERM"));
  process.on("SIGINT", stop("SIGINT"));
  process.on("disconnect", stop("parent gone"));
  let source: { runsRoot: string; job: () => unknown };
  if (arg(argv, "--jobs") === undefined && process.send !== undefined) {
    await warmUp((arg(argv, "--warm-envs") ?? "").split(",").filter((e) => e !== ""));
    if (!controller.signal.aborted) process.send({ type: "ready", cpuSeconds: cpuSeconds() } satisfies ChildReady);
    const message = await awaitJob(controller.signal);
    if (message === null) return EXIT.interrupted; // no job came: nothing started, nothing to save
    process.send({ type: "taken" } satisfies ChildTaken);
    source = { runsRoot: message.runsRoot, job: () => message.job };
  } else {
    source = { runsRoot: arg(argv, "--runs-root") ?? "", job: () => jobFromList(argv) };
    // an array task (not a pool's child, even one whose worker runs inside a Slurm job) may requeue itself
    process.on("SIGUSR2", () => {
      requeue = slurmTask(process.env) !== null;
      stop("SIGUSR2 (time limit near)")();
    });
  }
  training = true;
  let job: unknown;
  let root: string;
  try {
    root = checkRunsRoot(source.runsRoot);
    job = source.job();
  } catch (err) {
    process.stderr.write(`refused: ${(err as Error).message}\n`);
    return EXIT.refused;
  }
  let last = 0;
  let firstStep: number | null = null;
  try {
    const result = await executeJob(job, root, {
      signal: controller.signal,
      log: (line) => process.stderr.write(line + "\n"),
      onProgress: (p) => {
        firstStep ??= p.done;
        const now = Date.now();
        if (!process.send || !process.connected || (now - last < 1000 && p.done < p.total)) return;
        last = now;
        const message: ChildProgress = { type: "progress", step: p.done, total: p.total, stepsPerSecond: p.rate, lastEvalReturn: p.figures.eval ?? null };
        process.send(message);
      },
    });
    process.stderr.write(`${result.outcome} at step ${result.step}\n`);
    if (result.outcome === "interrupted" && requeue) requeueTask(result.step, firstStep);
    return result.outcome === "interrupted" ? EXIT.interrupted : EXIT.finished;
  } catch (err) {
    const refused = err instanceof IapoError && err.name === "ConfigError";
    process.stderr.write(`${refused ? "refused" : "failed"}: ${err instanceof IapoError ? err.message : (err as Error).stack}\n`);
    return refused ? EXIT.refused : EXIT.failed;
  }
}

/** The Slurm array task this process is ("812_3", digits only), from its environment; null outside one. */
export function slurmTask(env: NodeJS.ProcessEnv): string | null {
  const job = env.SLURM_ARRAY_JOB_ID ?? "", task = env.SLURM_ARRAY_TASK_ID ?? "";
  return /^[0-9]+$/.test(job) && /^[0-9]+$/.test(task) ? `${job}_${task}` : null;
}

/**
 * Puts this array task back in Slurm's queue once its run is checkpointed at `step`. Not when the run made no
 * progress in this allocation (a signal that came at once would otherwise requeue the task forever); then, or when
 * scontrol fails, the run stays interrupted and the next `iapo sweep run` submits it again.
 */
function requeueTask(step: number, firstStep: number | null): void {
  const task = slurmTask(process.env)!;
  if (firstStep === null || step <= firstStep) {
    process.stderr.write(`not requeueing ${task}: no step trained in this allocation; submit the sweep again to resume it\n`);
    return;
  }
  try {
    execFileSync("scontrol", ["requeue", task], { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    process.stderr.write(`requeued ${task}: it resumes from the checkpoint at step ${step}\n`);
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    process.stderr.write(`scontrol requeue ${task} failed (${(e.stderr?.toString() || e.message).trim()}); submit the sweep again to resume the run\n`);
  }
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Exits with `code`, first telling a parent on the IPC channel what the process cost. */
function exit(code: number): void {
  if (process.send && process.connected) process.send({ type: "done", cpuSeconds: cpuSeconds() } satisfies ChildDone, undefined, undefined, () => process.exit(code));
  else process.exit(code);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(exit);
}
