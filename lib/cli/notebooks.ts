/**
 * `iapo notebooks [names...] [--all] [--scale S] [--out DIR] [--timeout SECONDS]`
 *
 * Executes notebooks through the real Jupyter protocol (nbclient driving the tslab kernel registered by
 * scripts/setup.sh in `.jupyter/`), writing executed notebooks and HTML into `reports/`, then the report's
 * front page `reports/index.html` over every notebook executed there. Exits non-zero, naming the notebook and
 * cell, on the first failing cell of any notebook (the index is written either way).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { IapoError, UnknownNameError } from "../core/errors";
import { projectRoot } from "../core/paths";
import { parseScale, SCALE_ENV_VAR, activeScale, type Scale } from "../core/scale";
import { writeReportIndex } from "./report-index";

export interface NotebookRunOptions {
  /** Notebook names (`00-quickstart`, with or without `.ipynb`) from `notebooks/`, or paths to .ipynb files. */
  names: string[];
  /** Run every notebook in `notebooks/` (in name order). */
  all: boolean;
  scale: Scale;
  /** Folder for executed notebooks and HTML. */
  outDir: string;
  /** Seconds allowed per cell. */
  cellTimeoutS: number;
}

/** Debian's python has nbclient/nbconvert; the python first on PATH may not (pyenv). */
export const JUPYTER_PYTHON = process.env.IAPO_PYTHON ?? "/usr/bin/python3";

export function notebooksDir(): string {
  return path.join(projectRoot(), "notebooks");
}

export function listNotebooks(): string[] {
  return fs
    .readdirSync(notebooksDir())
    .filter((f) => f.endsWith(".ipynb"))
    .sort()
    .map((f) => f.replace(/\.ipynb$/, ""));
}

/** Turns a notebook name or path into an existing .ipynb path, or fails naming the known notebooks. */
export function resolveNotebook(name: string): string {
  const asPath = path.resolve(name);
  if (name.endsWith(".ipynb") && fs.existsSync(asPath)) return asPath;
  const stem = path.basename(name).replace(/\.ipynb$/, "");
  const known = listNotebooks();
  if (!known.includes(stem)) throw new UnknownNameError("notebook", name, known);
  return path.join(notebooksDir(), `${stem}.ipynb`);
}

export function parseNotebookArgs(argv: string[]): NotebookRunOptions {
  const opts: NotebookRunOptions = {
    names: [],
    all: false,
    scale: activeScale(process.env, "quick"),
    outDir: path.join(projectRoot(), "reports"),
    cellTimeoutS: 3600,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new IapoError(`${arg} needs a value`);
      return v;
    };
    if (arg === "--all") opts.all = true;
    else if (arg === "--scale") opts.scale = parseScale(value(), "--scale");
    else if (arg === "--out") opts.outDir = path.resolve(value());
    else if (arg === "--timeout") {
      const t = Number(value());
      if (!Number.isFinite(t) || t <= 0) throw new IapoError(`--timeout must be a positive number of seconds`);
      opts.cellTimeoutS = t;
    } else if (arg.startsWith("--")) throw new IapoError(`unknown option ${arg} for "iapo notebooks"`);
    else opts.names.push(arg);
  }
  if (!opts.all && opts.names.length === 0) {
    throw new IapoError(`name the notebooks to run or pass --all; known: ${listNotebooks().join(", ")}`);
  }
  return opts;
}

/**
 * How the kernel's TypeScript compiler watches the ~1000 declaration files and folders a notebook imports: by
 * polling modification times rather than by file-system events. Events also fire when only a file's link count
 * changes (another checkout sharing node_modules through hard links, a backup tool), and tslab 1.0.22 kills the
 * kernel ("Unexpected pending rebuildTimer") when two kinds of change arrive while one cell runs. A value already
 * in the environment is kept.
 */
export const KERNEL_WATCH_ENV: Readonly<Record<string, string>> = { TSC_WATCHFILE: "DynamicPriorityPolling", TSC_WATCHDIRECTORY: "DynamicPriorityPolling" };

/** Checks what the runner needs before starting a kernel, so a missing setup step is named plainly. */
function checkSetup(root: string): NodeJS.ProcessEnv {
  const jupyterPath = path.join(root, ".jupyter", "share", "jupyter");
  if (!fs.existsSync(path.join(jupyterPath, "kernels", "tslab", "kernel.json"))) {
    throw new IapoError(`the tslab Jupyter kernel is not registered in ${jupyterPath}; run: bash scripts/setup.sh`);
  }
  if (!fs.existsSync(path.join(root, "node_modules", "iapo", "package.json"))) {
    throw new IapoError(`node_modules/iapo (the link notebooks import the library through) is missing; run: bash scripts/setup.sh`);
  }
  if (!fs.existsSync(JUPYTER_PYTHON)) {
    throw new IapoError(`${JUPYTER_PYTHON} not found (Debian's python3 with nbclient); run: bash scripts/setup.sh`);
  }
  return {
    ...KERNEL_WATCH_ENV,
    ...process.env,
    JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    PATH: [path.join(root, "node_modules", ".bin"), process.env.PATH].filter(Boolean).join(path.delimiter),
  };
}

/** Runs the notebooks one after another; returns the process exit code (0 when all succeeded). */
export function runNotebooks(opts: NotebookRunOptions): number {
  const root = projectRoot();
  const paths = [...(opts.all ? listNotebooks().map(resolveNotebook) : []), ...opts.names.map(resolveNotebook)];
  const env = { ...checkSetup(root), [SCALE_ENV_VAR]: opts.scale };
  const driver = path.join(root, "scripts", "execute_notebook.py");
  let code = 0;
  try {
    for (const nb of [...new Set(paths)]) {
      console.error(`notebook ${path.relative(root, nb)} (scale ${opts.scale})`);
      const result = spawnSync(
        JUPYTER_PYTHON,
        [driver, "--notebook", nb, "--out-dir", opts.outDir, "--timeout", String(opts.cellTimeoutS)],
        { env, stdio: "inherit", cwd: path.dirname(nb) },
      );
      if (result.error) throw new IapoError(`could not start ${JUPYTER_PYTHON}: ${result.error.message}`);
      if (result.status !== 0) {
        code = result.status ?? 1;
        break;
      }
    }
  } finally {
    if (fs.existsSync(opts.outDir)) console.error(`report index: ${writeReportIndex(opts.outDir)}`);
  }
  return code;
}
