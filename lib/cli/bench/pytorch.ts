/**
 * PyTorch side by side: the same SAC updates as the backend suite on Q architecture A (direct and iterative with
 * 5 iterations, each with N = 1 and N = 10), written idiomatically in PyTorch (scripts/bench/pytorch_sac_update.py)
 * and timed on this machine in the same bench run, with 1 and with 2 threads (our native path may use 2 BLAS
 * threads). Then the updates with model-based values beside ours in alternating rounds (./pytorch-model-based.ts).
 * Needs Debian's python3-torch (`bash scripts/setup.sh --with-pytorch`); without it the suite reports nothing and
 * says how to install it.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { IapoError } from "../../core/errors";
import { projectRoot } from "../../core/paths";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";
import { measureModelBasedSideBySide } from "./pytorch-model-based";

export interface PytorchSuiteOptions {
  /** The Python that has torch (default: Debian's /usr/bin/python3, where python3-torch installs). */
  python?: string;
  /** The timing script (default: scripts/bench/pytorch_sac_update.py in the project). */
  script?: string;
  /** Thread counts to measure, one script run each (default 1 and 2). */
  threads?: number[];
  /** Where the one-line "not installed" notice goes (default: stderr). */
  log?: (line: string) => void;
  /** Time the model-based updates beside ours (default true). */
  modelBased?: boolean;
}

/** What the script prints (one JSON document). */
interface ScriptResult {
  torch: string;
  threads: number;
  coreType: string | null;
  figures: Array<{ name: string; ms: number }>;
}

interface Exit {
  /** Exit code, or null when the process could not start or was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it could not start (e.g. ENOENT), if so. */
  error?: Error;
}

/** Runs a process to completion without blocking the event loop. */
function run(command: string, args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (error) => resolve({ code: null, stdout, stderr, error }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last lines of a process's stderr, for error messages. */
function tail(text: string, lines = 12): string {
  const kept = text.trimEnd().split("\n").slice(-lines).join("\n");
  return kept ? `\n${kept}` : " (no stderr)";
}

/** True when `python` starts and can import torch. */
export async function torchImportable(python: string): Promise<boolean> {
  const r = await run(python, ["-c", "import torch"]);
  return r.code === 0;
}

function parseResult(stdout: string, where: string): ScriptResult {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new IapoError(`${where} did not print one JSON document; it printed:${tail(stdout)}`);
  }
  const r = doc as Partial<ScriptResult>;
  const ok = typeof r.torch === "string" && typeof r.threads === "number" && Array.isArray(r.figures)
    && r.figures.every((f) => typeof f?.name === "string" && typeof f?.ms === "number" && Number.isFinite(f.ms));
  if (!ok) throw new IapoError(`${where} printed JSON without torch, threads and figures [{name, ms}]: ${stdout.slice(0, 500)}`);
  return r as ScriptResult;
}

/** The suite, with its Python, script and thread counts injectable (tests). */
export function makePytorchSuite(options: PytorchSuiteOptions = {}): BenchSuite {
  const python = options.python ?? "/usr/bin/python3";
  const threads = options.threads ?? [1, 2];
  const log = options.log ?? ((line: string) => console.error(line));
  return {
    name: "pytorch",
    description: "the same SAC updates in PyTorch (Debian python3-torch) on this machine, 1 and 2 threads; model-based ones beside ours",
    async run(bench: BenchOptions): Promise<BenchFigure[]> {
      if (!(await torchImportable(python))) {
        log(`bench: pytorch: skipped, ${python} cannot import torch; install it with \`bash scripts/setup.sh --with-pytorch\``);
        return [];
      }
      const script = options.script ?? path.join(projectRoot(), "scripts", "bench", "pytorch_sac_update.py");
      const figures: BenchFigure[] = [];
      for (const t of threads) {
        const args = [script, "--threads", String(t), ...(bench.quick ? ["--quick"] : [])];
        const where = `${script} (${[python, ...args].join(" ")})`;
        const r = await run(python, args);
        if (r.code !== 0) {
          const why = r.error ? `could not start: ${r.error.message}` : `failed with exit code ${r.code ?? "null (killed)"}`;
          throw new IapoError(`PyTorch benchmark script ${where} ${why}; its stderr:${tail(r.stderr)}`);
        }
        const result = parseResult(r.stdout, `PyTorch benchmark script ${where}`);
        const variant = `PyTorch ${result.torch}, ${result.threads} thread${result.threads === 1 ? "" : "s"}`;
        for (const f of result.figures) {
          figures.push({ suite: "pytorch", name: f.name, variant, value: f.ms, unit: "ms/update", ...(result.coreType ? { note: `OpenBLAS core ${result.coreType}` } : {}) });
        }
      }
      if (options.modelBased !== false) figures.push(...(await measureModelBasedSideBySide({ python, script, quick: bench.quick })));
      return figures;
    },
  };
}

export const pytorchSuite: BenchSuite = makePytorchSuite();
