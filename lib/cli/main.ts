#!/usr/bin/env node
/**
 * The `iapo` command line: one subcommand per job. Each command's module is loaded only when that command runs:
 * `iapo train` then starts without loading the queue client, the benchmarks or the notebook runner.
 */
import { IapoError } from "../core/errors";

async function usage(): Promise<string> {
  const [{ ANALYZE_USAGE }, { EXPORT_LOGS_USAGE }, { TRAIN_USAGE }, { SWEEP_USAGE }, { REPRODUCE_USAGE }, { WORKER_USAGE }, { TRANSFER_USAGE }] = await Promise.all([
    import("./analyze"), import("./export-logs"), import("./train"), import("./sweep"), import("./reproduce"), import("./worker"), import("./transfer"),
  ]);
  return `usage: iapo <command> [options]

commands:
  notebooks [names...] [--all] [--scale smoke|quick|paper] [--out DIR] [--timeout S]
      execute notebooks through Jupyter (tslab kernel); writes executed notebooks and HTML to reports/
  train --env NAME ...   train one SAC agent into data/runs (see below)
  analyze RUN_DIR --estimator NAME ...   run estimators on the snapshots a run kept (see below)
  transfer RUN_DIR RUN_DIR ...     zero-shot transfer between a model-free and a model-based run (see below)
  bench [--json] [--quick] [--only suite,...] [--save]
      measure speed (backends, environments, training) and print a table, or JSON with --json;
      --save also writes the run (date, commit, machine, steal, every figure) to bench/results/
  sweep plan|run|status FILE ...   a grid of runs from a sweep file, locally, on a Redis queue or on Slurm
  reproduce [--tasks all] [--scale quick] ...   direct and iterative SAC on the paper's four tasks over seeds,
                                   with each run's cost on this machine printed first (see below)
  worker --redis URL ...           train sweep runs pulled from a Redis queue
  export-logs RUNS_DIR DEST --label TEXT   copy runs' logs (no checkpoints) to commit or send

${TRAIN_USAGE}

${ANALYZE_USAGE}

${TRANSFER_USAGE}

${SWEEP_USAGE}
${WORKER_USAGE}

${EXPORT_LOGS_USAGE}

${REPRODUCE_USAGE}`;
}

type Command = (argv: string[]) => Promise<number> | number;

const COMMANDS: Record<string, Command> = {
  notebooks: async (argv) => {
    const { parseNotebookArgs, runNotebooks } = await import("./notebooks");
    return runNotebooks(parseNotebookArgs(argv));
  },
  train: async (argv) => (await import("./train")).runTrainCommand(argv),
  analyze: async (argv) => (await import("./analyze")).runAnalyzeCommand(argv),
  bench: async (argv) => (await import("./bench")).runBench(argv),
  sweep: async (argv) => (await import("./sweep")).runSweepCommand(argv),
  worker: async (argv) => (await import("./worker")).runWorkerCommand(argv),
  "export-logs": async (argv) => (await import("./export-logs")).runExportLogsCommand(argv),
  reproduce: async (argv) => (await import("./reproduce")).runReproduceCommand(argv),
  transfer: async (argv) => (await import("./transfer")).runTransferCommand(argv),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) throw new IapoError(`unknown command "${name}"; known: ${Object.keys(COMMANDS).join(", ")}`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Our own errors are user-facing: print the message alone. Anything else is a bug: print the stack.
    if (err instanceof IapoError) console.error(`iapo: ${err.message}`);
    else console.error(err);
    process.exit(2);
  },
);
