/**
 * `iapo transfer RUN RUN [--steps N,...] [--set episodes=N] [--set timeLimit=N]`
 *
 * Zero-shot transfer (Sec. 4.2.5, Fig. 8d) between an iterative run trained with model-free values and one
 * trained with model-based values, given in either order: at each step both kept a snapshot, each run's
 * optimizer acts, unchanged, on the other run's value estimate and on its own. Each row is appended to the
 * analysis.jsonl of the run whose optimizer it evaluates; steps already there are skipped.
 */
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { logTransferBetweenRuns } from "../train/transfer";
import { eachArgument, integer, parseSetting, printedHelp } from "./args";
import { terminalProgress } from "./train";

export const TRANSFER_USAGE = `iapo transfer RUN_DIR RUN_DIR [--steps N,...] [--set episodes=N] [--set timeLimit=N]
      zero-shot transfer between an iterative run with model-free values and one with model-based values (either
      order): each optimizer, unchanged, on the other run's value estimate and on its own, at every step both runs
      kept a snapshot (or --steps); rows go to the analysis.jsonl of the run whose optimizer acted`;

interface TransferArgs {
  runs: [string, string];
  steps?: number[];
  settings: Record<string, unknown>;
}

export function parseTransferArgs(argv: string[]): TransferArgs {
  const runs: string[] = [];
  let steps: number[] | undefined;
  const settings: Record<string, unknown> = {};
  eachArgument(argv, (flag, value) => {
    switch (flag) {
      case "--steps": steps = value().split(",").map((s) => integer(flag, s, 0)); break;
      case "--set": {
        const [k, v] = parseSetting(flag, value());
        settings[k] = v;
        break;
      }
      default:
        if (flag.startsWith("--") || runs.length === 2) throw new IapoError(`unknown option ${flag} for "iapo transfer"\nusage: ${TRANSFER_USAGE}`);
        runs.push(path.resolve(flag));
    }
  });
  if (runs.length !== 2) throw new IapoError(`two run folders are required (one model-free, one model-based), got ${runs.length}\nusage: ${TRANSFER_USAGE}`);
  return { runs: [runs[0], runs[1]], steps, settings };
}

export async function runTransferCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, TRANSFER_USAGE)) return 0;
  const a = parseTransferArgs(argv);
  const result = await logTransferBetweenRuns(a.runs[0], a.runs[1], { steps: a.steps, settings: a.settings, onProgress: terminalProgress() });
  console.error(`zero-shot transfer at ${result.measured.length} steps (${result.skipped.length} already logged); ${result.rows} rows in ${result.files.join(" and ")}`);
  return 0;
}
