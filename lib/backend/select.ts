import { tf } from "./tf";
import { ConfigError } from "../core/errors";

/** Backends the library can run on, fastest first. */
export const BACKEND_NAMES = ["wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What `initBackend` chose, and why, for logs and for the reader of a notebook. */
export interface BackendInfo {
  /** The tfjs backend name now active. */
  name: BackendName;
  /** One line saying why this one was chosen (or forced). */
  reason: string;
  /** Backends tried before it, each with why it was not used. */
  skipped: { name: string; why: string }[];
}

/** Environment variable that forces a backend instead of the automatic order. */
export const BACKEND_ENV_VAR = "IAPO_BACKEND";

let current: BackendInfo | undefined;

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    if (name === "wasm") require("@tensorflow/tfjs-backend-wasm");
    const ok = await tf.setBackend(name);
    if (!ok) return "tf.setBackend returned false";
    await tf.ready();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
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
    const why = await tryBackend(forced as BackendName);
    if (why !== null) throw new ConfigError(`${BACKEND_ENV_VAR}=${forced}: backend failed to start: ${why}`);
    return (current = { name: forced as BackendName, reason: `forced by ${BACKEND_ENV_VAR}`, skipped: [] });
  }
  const skipped: BackendInfo["skipped"] = [];
  for (const name of BACKEND_NAMES) {
    const why = await tryBackend(name);
    if (why === null) return (current = { name, reason: `fastest available`, skipped });
    skipped.push({ name, why });
  }
  throw new ConfigError(`no tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.why}`).join("; ")}`);
}

/** The backend chosen by `initBackend`, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}
