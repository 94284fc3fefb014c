/**
 * Picks the tensor backend at start-up: the fastest one that works, and says which and why.
 *
 * Automatic order: node-gpu (tfjs-node-gpu, CUDA) → node (tfjs-node, libtensorflow) → wasm-native (tfjs wasm
 * backend + iapo's OpenBLAS kernels and in-place Adam) → wasm-js (wasm backend + the pure-JS transpose fix)
 * → a clear error. Forced only, via IAPO_BACKEND: webgpu (Dawn from the `webgpu` package; not verified to
 * train correctly, so never chosen on its own), wasm-stock (tfjs-backend-wasm unmodified, for comparisons)
 * and cpu (the tfjs reference backend).
 */
import { tf } from "./tf";
import { ConfigError } from "../core/errors";
import { loadNative } from "./native";
import { describeThreads } from "./blas-env";
import { installWasmKernels } from "./wasm-kernels";

/** Every backend the library can run on; AUTO_ORDER is the subset tried automatically, fastest first. */
export const BACKEND_NAMES = ["node-gpu", "node", "webgpu", "wasm-native", "wasm-js", "wasm-stock", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const AUTO_ORDER: readonly BackendName[] = ["node-gpu", "node", "wasm-native", "wasm-js"];

/** What `initBackend` chose, and why, for logs and for the reader of a notebook. */
export interface BackendInfo {
  /** Our name for the setup now active. */
  name: BackendName;
  /** The tfjs backend underneath ("tensorflow", "webgpu", "wasm", "cpu"). */
  tfjsBackend: string;
  /** One line saying why this one was chosen (or forced). */
  reason: string;
  /** Backends tried before it, each with why it was not used. */
  skipped: { name: string; why: string }[];
  /** For wasm-native: the addon's OpenBLAS core type and where OPENBLAS_CORETYPE came from. */
  blas?: string;
}

/** Environment variable that forces a backend instead of the automatic order. */
export const BACKEND_ENV_VAR = "IAPO_BACKEND";

let current: BackendInfo | undefined;

/** Loads a package if installed; the error says "not installed" plainly rather than a resolver trace. */
function requireOptional(pkg: string): unknown {
  try {
    require.resolve(pkg);
  } catch {
    throw new Error(`package ${pkg} is not installed`);
  }
  return require(pkg);
}

async function activate(tfjsName: string): Promise<void> {
  const ok = await tf.setBackend(tfjsName);
  if (!ok) throw new Error(`tf.setBackend("${tfjsName}") returned false`);
  await tf.ready();
}

/** Makes `name` active (throwing with the reason when it cannot run) and returns a note for the report. */
async function start(name: BackendName): Promise<{ tfjsBackend: string; blas?: string }> {
  switch (name) {
    case "node-gpu":
    case "node": {
      requireOptional(name === "node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node");
      // npm overrides map @tensorflow/tfjs-node to plain @tensorflow/tfjs (for danfojs): then it loads but
      // registers no "tensorflow" backend.
      if (!tf.findBackendFactory("tensorflow")) {
        throw new Error("loaded, but no native 'tensorflow' backend registered (this is plain @tensorflow/tfjs, not libtensorflow)");
      }
      await activate("tensorflow");
      return { tfjsBackend: "tensorflow" };
    }
    case "webgpu": {
      const dawn = requireOptional("webgpu") as { create(flags: string[]): unknown; globals: object };
      Object.assign(globalThis, dawn.globals);
      (globalThis as { navigator?: unknown }).navigator ??= { gpu: dawn.create([]) };
      requireOptional("@tensorflow/tfjs-backend-webgpu");
      await activate("webgpu");
      return { tfjsBackend: "webgpu" };
    }
    case "wasm-native": {
      const native = loadNative();
      if (!native.ok) throw new Error(native.why);
      requireOptional("@tensorflow/tfjs-backend-wasm");
      await activate("wasm");
      installWasmKernels("native", native.addon);
      const { kernels, why } = native.packedGemm;
      const passes = kernels === "off" ? `network passes on OpenBLAS (${why})` : `network passes on iapo's packed GEMM, ${kernels === "avx512" ? "AVX-512" : "AVX2"} (${why})`;
      return { tfjsBackend: "wasm", blas: `OpenBLAS core ${native.coreName} (OPENBLAS_CORETYPE ${native.blas.coreType ?? "unset"}: ${native.blas.coreTypeSource}), ${describeThreads(native.blas)}, ${passes}` };
    }
    case "wasm-js":
    case "wasm-stock":
      requireOptional("@tensorflow/tfjs-backend-wasm");
      await activate("wasm");
      installWasmKernels(name === "wasm-js" ? "transpose" : "stock");
      return { tfjsBackend: "wasm" };
    case "cpu":
      await activate("cpu");
      return { tfjsBackend: "cpu" };
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Makes one named backend active now (also after initBackend chose another; benchmarks compare them this way)
 * and returns its report. Create networks and optimizers after switching: tensors stay on their backend.
 */
export async function useBackend(name: BackendName, reason = "chosen explicitly"): Promise<BackendInfo> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown backend "${name}"; known: ${BACKEND_NAMES.join(", ")}`);
  }
  try {
    const started = await start(name);
    return (current = { name, ...started, reason, skipped: [] });
  } catch (err) {
    throw new ConfigError(`backend ${name} failed to start: ${message(err)}`);
  }
}

/**
 * Picks the fastest backend that works (or the one named by `IAPO_BACKEND`) and makes it active.
 * Idempotent: later calls return the first choice.
 */
export async function initBackend(env: NodeJS.ProcessEnv = process.env): Promise<BackendInfo> {
  if (current) return current;
  const forced = env[BACKEND_ENV_VAR]?.trim();
  if (forced) {
    if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
      throw new ConfigError(`${BACKEND_ENV_VAR}: unknown backend "${forced}"; known: ${BACKEND_NAMES.join(", ")}`);
    }
    try {
      return await useBackend(forced as BackendName, `forced by ${BACKEND_ENV_VAR}`);
    } catch (err) {
      throw new ConfigError(`${BACKEND_ENV_VAR}=${forced}: ${message(err)}`);
    }
  }
  const skipped: BackendInfo["skipped"] = [];
  for (const name of AUTO_ORDER) {
    try {
      const started = await start(name);
      const reason = skipped.length === 0 ? "fastest in the order" : `fastest that works (${skipped.map((s) => s.name).join(", ")} unavailable)`;
      return (current = { name, ...started, reason, skipped });
    } catch (err) {
      if (err instanceof ConfigError) throw err; // a setting to fix (IAPO_THREADS, IAPO_PACKED_GEMM), not a missing backend
      skipped.push({ name, why: message(err) });
    }
  }
  throw new ConfigError(`no backend could start: ${skipped.map((s) => `${s.name}: ${s.why}`).join("; ")}`);
}

/** The backend chosen by `initBackend` / `useBackend`, or undefined before either ran. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}
