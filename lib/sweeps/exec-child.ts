/**
 * The process one run trains in: `node exec-child.js --runs-root DIR (--job JSON | --jobs FILE --index N)`.
 * Local pools and queue workers start one per run (a crash or NaN ends only that run); a Slurm array task runs it
 * with the task's index into the submitted job list. SIGTERM (Slurm's pre-emption and requeue signal), SIGINT, or
 * losing its parent checkpoint the run and exit.
 *
 * Exit codes: 0 finished (or already finished), 3 interrupted (resumable), 4 job refused, 1 training failed.
 */
import * as fs from "node:fs";
import { IapoError } from "../core/errors";
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

function arg(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The job this process was given: inline, or entry N of a submitted job list (a Slurm array). */
function jobFromArgs(argv: string[]): unknown {
  const inline = arg(argv, "--job");
  if (inline !== undefined) return JSON.parse(inline);
  const file = arg(argv, "--jobs"), index = Number(arg(argv, "--index"));
  if (file === undefined || !Number.isInteger(index) || index < 0) throw new IapoError("usage: exec-child --runs-root DIR (--job JSON | --jobs FILE --index N)");
  const jobs = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  if (!Array.isArray(jobs) || index >= jobs.length) throw new IapoError(`${file} has no job ${index}`);
  return jobs[index];
}

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const stop = (why: string) => (): void => {
    if (!controller.signal.aborted) process.stderr.write(`${why}: checkpointing and stopping\n`);
    controller.abort();
  };
  process.on("SIGTERM", stop("SIGTERM"));
  process.on("SIGINT", stop("SIGINT"));
  process.on("disconnect", stop("parent gone"));
  let job: unknown;
  let root: string;
  try {
    root = checkRunsRoot(arg(argv, "--runs-root") ?? "");
    job = jobFromArgs(argv);
  } catch (err) {
    process.stderr.write(`refused: ${(err as Error).message}\n`);
    return EXIT.refused;
  }
  let last = 0;
  try {
    const result = await executeJob(job, root, {
      signal: controller.signal,
      log: (line) => process.stderr.write(line + "\n"),
      onProgress: (p) => {
        const now = Date.now();
        if (!process.send || !process.connected || (now - last < 1000 && p.done < p.total)) return;
        last = now;
        const message: ChildProgress = { type: "progress", step: p.done, total: p.total, stepsPerSecond: p.rate, lastEvalReturn: p.figures.eval ?? null };
        process.send(message);
      },
    });
    process.stderr.write(`${result.outcome} at step ${result.step}\n`);
    return result.outcome === "interrupted" ? EXIT.interrupted : EXIT.finished;
  } catch (err) {
    const refused = err instanceof IapoError && err.name === "ConfigError";
    process.stderr.write(`${refused ? "refused" : "failed"}: ${err instanceof IapoError ? err.message : (err as Error).stack}\n`);
    return refused ? EXIT.refused : EXIT.failed;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
