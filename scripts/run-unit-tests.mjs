// Runs the compiled tests (dist/tests/**/*.test.js) with node's test runner.
// Arguments filter test files by substring: `npm run test:unit -- rng notebooks`. Output is node's spec reporter
// with each file's time listed before the runner's closing summary (scripts/test-times-reporter.mjs).
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
const reporter = join(root, "scripts", "test-times-reporter.mjs");
const result = spawnSync(process.execPath, ["--test", `--test-reporter=${reporter}`, "--test-reporter-destination=stdout", ...files], {
  stdio: "inherit",
  cwd: root,
  env: { ...process.env, IAPO_TEST_TIMES_ROOT: testsDir },
});
process.exit(result.status ?? 1);
