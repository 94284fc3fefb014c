/** Where a run came from: enough to tell later what code, packages and machine produced its numbers. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../core/paths";

export interface Provenance {
  /** `git rev-parse HEAD` of the project, with "-dirty" when the work tree had changes; null outside git. */
  gitCommit: string | null;
  /** Versions of the packages that decide the numbers. */
  packages: Record<string, string | null>;
  node: string;
  platform: string;
  cpu: string;
  cpus: number;
  hostname: string;
  /** ISO time the run (or this resume) started. */
  startedAt: string;
}

const KEY_PACKAGES = ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs-node-gpu", "mujoco-js", "tslab"];

function gitCommit(root: string): string | null {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

function packageVersion(root: string, name: string): string | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version ?? null;
  } catch {
    return null;
  }
}

export function collectProvenance(): Provenance {
  const root = projectRoot();
  const iapoVersion = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version as string;
  return {
    gitCommit: gitCommit(root),
    packages: { iapo: iapoVersion, ...Object.fromEntries(KEY_PACKAGES.map((p) => [p, packageVersion(root, p)])) },
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.cpus().length,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
  };
}
