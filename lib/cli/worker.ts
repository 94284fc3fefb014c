/**
 * `iapo worker --redis URL [--runs-dir DIR] [--concurrency N]`: pulls sweep runs from the BullMQ queue and
 * trains each in its own process into the shared runs folder, until SIGTERM or Ctrl-C (which checkpoint the runs
 * in progress and hand them back to the queue).
 */
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { defaultRunsDir } from "../core/paths";
import { checkRunsRoot, startSweepWorker } from "../sweeps";
import { eachArgument, integer } from "./args";

export const WORKER_USAGE = "iapo worker --redis URL [--runs-dir DIR] [--concurrency N] [--lock-duration MS]";

export async function runWorkerCommand(argv: string[]): Promise<number> {
  let redis: string | undefined;
  let runsDir = defaultRunsDir();
  let concurrency = 1;
  let lockDurationMs = 30_000;
  eachArgument(argv, (flag, value) => {
    const int = (min: number): number => integer(flag, value(), min);
    switch (flag) {
      case "--redis": redis = value(); break;
      case "--runs-dir": runsDir = path.resolve(value()); break;
      case "--concurrency": concurrency = int(1); break;
      case "--lock-duration": lockDurationMs = int(1000); break;
      default: throw new IapoError(`unknown option ${flag} for "iapo worker"\nusage: ${WORKER_USAGE}`);
    }
  });
  if (redis === undefined) throw new IapoError(`--redis URL is required\nusage: ${WORKER_USAGE}`);
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const worker = await startSweepWorker({ redis, runsRoot: checkRunsRoot(runsDir), concurrency, lockDurationMs, log });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => (): void => {
      log(`${sig}: checkpointing runs in progress and returning them to the queue`);
      resolve();
    };
    process.once("SIGTERM", stop("SIGTERM"));
    process.once("SIGINT", stop("SIGINT"));
  });
  await worker.close();
  return 0;
}
