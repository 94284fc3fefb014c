/**
 * OpenBLAS settings that must be in the process environment before libopenblas loads (it reads them once, in
 * its library constructor). Debian's OpenBLAS 0.3.21 does not recognise some newer x86-64 CPUs and then falls
 * back to old SSE3 kernels (~25 instead of ~170 GFLOP/s); naming the core type from the CPU's flags fixes that.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { ConfigError } from "../core/errors";

/** The OpenBLAS core type whose kernels this CPU can run, from its /proc/cpuinfo flags; null: let OpenBLAS decide. */
export function coreTypeForFlags(flags: ReadonlySet<string>): string | null {
  // SkylakeX kernels use AVX-512 F/BW/DQ/VL (all present on every AVX-512 CPU since Skylake-SP, incl. AMD Zen 4).
  if (["avx512f", "avx512bw", "avx512dq", "avx512vl"].every((f) => flags.has(f))) return "SkylakeX";
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  return null;
}

/** The CPU flags of the first processor in /proc/cpuinfo (empty where that file does not exist). */
export function cpuFlags(cpuinfoPath = "/proc/cpuinfo"): Set<string> {
  let text: string;
  try {
    text = fs.readFileSync(cpuinfoPath, "utf8");
  } catch {
    return new Set();
  }
  const line = text.split("\n").find((l) => /^flags\s*:/.test(l));
  return new Set(line ? line.replace(/^flags\s*:/, "").trim().split(/\s+/) : []);
}

/** What was put into the environment, and why, for the backend's report. */
export interface BlasEnv {
  coreType: string | null;
  coreTypeSource: "already set" | "from cpu flags" | "left to OpenBLAS";
  /** Threads iapo's native passes use (1 or 2: a second network, or the second half of the rows, on a worker). */
  threads: number;
  threadsSource: "IAPO_THREADS" | "cores";
}

/**
 * Sets OPENBLAS_CORETYPE (from the CPU flags, unless the user set it) and OPENBLAS_NUM_THREADS=1 (iapo's
 * native passes parallelise above BLAS, a network or half the rows per thread: at these sizes that beats
 * OpenBLAS's own threads, which pay a hand-off on every product), and decides those threads: IAPO_THREADS,
 * else two where the machine has two cores or more. Call before the addon loads.
 */
export function prepareBlasEnv(env: NodeJS.ProcessEnv = process.env, flags: ReadonlySet<string> = cpuFlags(), cores = os.cpus().length): BlasEnv {
  let coreTypeSource: BlasEnv["coreTypeSource"] = "already set";
  if (!env.OPENBLAS_CORETYPE) {
    const chosen = coreTypeForFlags(flags);
    if (chosen) {
      env.OPENBLAS_CORETYPE = chosen;
      coreTypeSource = "from cpu flags";
    } else {
      coreTypeSource = "left to OpenBLAS";
    }
  }
  if (!env.OPENBLAS_NUM_THREADS) env.OPENBLAS_NUM_THREADS = "1";
  const asked = env.IAPO_THREADS;
  let threads = Math.max(1, Math.min(2, cores));
  let threadsSource: BlasEnv["threadsSource"] = "cores";
  if (asked !== undefined && asked !== "") {
    const n = Number(asked);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`IAPO_THREADS must be a whole number >= 1, got "${asked}"`);
    threads = Math.min(2, n);
    threadsSource = "IAPO_THREADS";
  }
  return { coreType: env.OPENBLAS_CORETYPE ?? null, coreTypeSource, threads, threadsSource };
}

/** Whether training runs tune the thread count (thread-tuner.ts): two from the core count, not fixed by IAPO_THREADS. */
export function threadsTuned(blas: Pick<BlasEnv, "threads" | "threadsSource">): boolean {
  return blas.threadsSource === "cores" && blas.threads >= 2;
}

/**
 * The threads for the backend report: "2 threads (cores; training runs move between 1 and 2 by their update times)",
 * or "1 thread (IAPO_THREADS)" where the count is fixed.
 */
export function describeThreads(blas: Pick<BlasEnv, "threads" | "threadsSource">): string {
  const count = `${blas.threads} thread${blas.threads === 1 ? "" : "s"}`;
  if (threadsTuned(blas)) return `${count} (cores; training runs move between 1 and 2 by their update times)`;
  return `${count} (${blas.threadsSource})`;
}
