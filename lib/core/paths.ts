import * as fs from "node:fs";
import * as path from "node:path";

let cachedRoot: string | undefined;

/**
 * The project's root folder (the one whose package.json is named "iapo"), found by walking up from this
 * file, so it is right whether the code runs from `lib/` (tests through ts) or `dist/lib/` (built).
 */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, "utf8")).name === "iapo") return (cachedRoot = dir);
      } catch {
        // an unreadable package.json further down is not ours; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the iapo project root above ${__dirname}`);
    dir = parent;
  }
}

/** Where logged runs live unless a caller says otherwise: `<root>/data/runs`, or `IAPO_DATA_DIR`/runs. */
export function defaultRunsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.IAPO_DATA_DIR ? path.resolve(env.IAPO_DATA_DIR) : path.join(projectRoot(), "data");
  return path.join(base, "runs");
}
