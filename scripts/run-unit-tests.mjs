// Runs the compiled tests (dist/tests/**/*.test.js) with node's test runner.
// Arguments filter test files by substring: `npm run test:unit -- rng notebooks`.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const testsDir = join(root, "dist", "tests");
if (!existsSync(testsDir)) {
  console.error("no compiled tests in dist/tests: run `npm run build` (or scripts/setup.sh) first");
  process.exit(2);
}
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.js") ? [p] : [];
  });
}
const filters = process.argv.slice(2);
const files = walk(testsDir).sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(", ")}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit", cwd: root });
process.exit(result.status ?? 1);
