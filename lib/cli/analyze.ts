/**
 * `iapo analyze RUN_DIR --estimator NAME[,NAME...] [--every N] [--set setting=value ...]`
 *
 * Runs the paper's estimators on the snapshots a run kept over training and appends their rows to the run's
 * analysis.jsonl — the same rows `iapo train --analyze` writes live. Steps already analysed with the same
 * settings are skipped, so an interrupted analysis continues where it stopped.
 */
import * as path from "node:path";
import { estimatorNames } from "../analysis/registry";
import { initBackend } from "../backend/select";
import { IapoError } from "../core/errors";
import { analyzeRun, resolveEstimators } from "../train/analyses";
import { eachArgument, integer, parseSetting } from "./args";
import { terminalProgress } from "./train";

export const ANALYZE_USAGE = `iapo analyze RUN_DIR --estimator NAME[,NAME...] [--every N] [--set setting=value ...]
      runs estimators on the snapshots a run kept (known: ${estimatorNames().join(", ") || "none"});
      --every N analyses the snapshots at multiples of N steps (default: all); --set changes an estimator setting`;

interface AnalyzeArgs {
  runDir: string;
  estimators: string[];
  every?: number;
  settings: Record<string, unknown>;
}

export function parseAnalyzeArgs(argv: string[]): AnalyzeArgs {
  let runDir: string | undefined;
  const a: Omit<AnalyzeArgs, "runDir"> = { estimators: [], settings: {} };
  eachArgument(argv, (flag, value) => {
    switch (flag) {
      case "--estimator": a.estimators.push(...value().split(",")); break;
      case "--every": a.every = integer(flag, value(), 1); break;
      case "--set": {
        const [k, v] = parseSetting(flag, value());
        a.settings[k] = v;
        break;
      }
      default:
        if (flag.startsWith("--") || runDir !== undefined) throw new IapoError(`unknown option ${flag} for "iapo analyze"\nusage: ${ANALYZE_USAGE}`);
        runDir = path.resolve(flag);
    }
  });
  if (runDir === undefined) throw new IapoError(`RUN_DIR is required\nusage: ${ANALYZE_USAGE}`);
  if (a.estimators.length === 0) throw new IapoError(`--estimator is required\nusage: ${ANALYZE_USAGE}`);
  return { runDir, ...a };
}

export async function runAnalyzeCommand(argv: string[]): Promise<number> {
  const a = parseAnalyzeArgs(argv);
  const estimators = resolveEstimators(a.estimators, a.settings);
  await initBackend();
  const result = await analyzeRun(a.runDir, estimators, { every: a.every, onProgress: terminalProgress() });
  console.error(`analysed ${result.analysed.length} snapshots (${result.skipped.length} already done); ${result.rows} rows in ${path.join(a.runDir, "analysis.jsonl")}`);
  return 0;
}
