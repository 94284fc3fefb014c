/**
 * Run folders of a sweep, resolved strictly inside the runs root: a folder named by a job must be a relative path
 * of plain names (no absolute path, no "..", no empty or dot segments), and no existing part of it may be a link
 * that leads out of the root. Workers resolve every folder through here before touching the filesystem.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../core/errors";

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The absolute folder for `relative` under `root`, or a ConfigError saying why it is refused. */
export function resolveRunFolder(root: string, relative: string): string {
  if (typeof relative !== "string" || relative === "") throw new ConfigError(`run folder must be a relative path, got ${JSON.stringify(relative)}`);
  if (path.isAbsolute(relative)) throw new ConfigError(`run folder "${relative}" is absolute; it must lie inside the runs root ${root}`);
  const segments = relative.split("/");
  for (const s of segments) {
    if (!SEGMENT.test(s)) throw new ConfigError(`run folder "${relative}": "${s}" is not a plain name (no "..", ".", empty parts or odd characters); it must lie inside the runs root`);
  }
  const realRoot = fs.realpathSync(root);
  let current = realRoot;
  for (const s of segments) {
    current = path.join(current, s);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(current);
    } catch {
      break; // the rest does not exist yet: it will be created inside the root
    }
    if (stat.isSymbolicLink()) {
      const target = fs.realpathSync(current);
      if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
        throw new ConfigError(`run folder "${relative}": ${current} is a link out of the runs root (to ${target})`);
      }
    }
  }
  return path.join(realRoot, ...segments);
}

/** The runs root, which must exist (every worker writes into the same one, usually on a shared filesystem). */
export function checkRunsRoot(root: string): string {
  const abs = path.resolve(root);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new ConfigError(`runs root ${abs} does not exist or is not a folder; create it (on storage every worker can reach)`);
  return abs;
}
