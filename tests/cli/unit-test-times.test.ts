/**
 * scripts/test-times-reporter.mjs, the reporter `npm run test:unit` runs: node's spec output plus each test
 * file's time, printed before node's closing summary so that summary ("ℹ tests N ... ℹ duration_ms") is still
 * what ends a passing run, and node's list of failing tests still follows it in a failing one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";

const reporter = path.join(projectRoot(), "scripts", "test-times-reporter.mjs");

/** Runs node --test with the reporter on the given files (name → source) in a fresh folder; returns stdout lines. */
function runWithReporter(files: Record<string, string>): { lines: string[]; status: number | null } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-test-times-"));
  try {
    for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), source);
    // NODE_TEST_CONTEXT, set for this file by the outer runner, would make the inner runner report to it instead
    const env: NodeJS.ProcessEnv = { ...process.env, IAPO_TEST_TIMES_ROOT: dir };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ["--test", `--test-reporter=${reporter}`, "--test-reporter-destination=stdout", ...Object.keys(files)], {
      cwd: dir,
      encoding: "utf8",
      env,
    });
    return { lines: r.stdout.split("\n"), status: r.status };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const slow = `const { test } = require("node:test"); test("slow", () => new Promise((r) => setTimeout(r, 600)));\n`;
const fast = `const { test } = require("node:test"); test("fast", () => {}); test("fast too", () => {});\n`;
const failing = `const { test } = require("node:test"); const assert = require("node:assert"); test("fails", () => assert.equal(1, 2));\n`;

/** Table rows "<seconds> s  <file>" → file → seconds. */
function tableRows(lines: string[]): Map<string, number> {
  const start = lines.indexOf("time per test file, slowest first:");
  assert.ok(start >= 0, `no per-file table in:\n${lines.join("\n")}`);
  const rows = new Map<string, number>();
  for (const line of lines.slice(start + 1)) {
    const m = /^\s*(\d+\.\d) s {2}(.+)$/.exec(line);
    if (!m) break;
    rows.set(m[2], Number(m[1]));
  }
  return rows;
}

test("a passing run lists every file's time, slowest first, before node's summary, which ends the output", () => {
  const { lines, status } = runWithReporter({ "slow.test.js": slow, "fast.test.js": fast });
  assert.equal(status, 0);
  const rows = tableRows(lines);
  assert.deepEqual([...rows.keys()], ["slow.test.js", "fast.test.js", "all 2 files, summed"]);
  assert.ok(rows.get("slow.test.js")! >= 0.6, "the slow file took at least its 600 ms timer");
  assert.ok(Math.abs(rows.get("all 2 files, summed")! - rows.get("slow.test.js")! - rows.get("fast.test.js")!) <= 0.15);
  const ending = lines.filter((l) => l.trim() !== "").slice(-8).map((l) => l.replace(/ [\d.]+$/, ""));
  assert.deepEqual(ending, ["ℹ tests", "ℹ suites", "ℹ pass", "ℹ fail", "ℹ cancelled", "ℹ skipped", "ℹ todo", "ℹ duration_ms"]);
  assert.ok(lines.includes("ℹ tests 3") && lines.includes("ℹ pass 3") && lines.includes("ℹ fail 0"));
  assert.ok(lines.indexOf("time per test file, slowest first:") < lines.indexOf("ℹ tests 3"));
});

test("a failing run still fails, with the table before the summary and node's failing-test list after it", () => {
  const { lines, status } = runWithReporter({ "fast.test.js": fast, "failing.test.js": failing });
  assert.equal(status, 1);
  assert.equal(tableRows(lines).size, 3);
  const table = lines.indexOf("time per test file, slowest first:");
  const summary = lines.indexOf("ℹ tests 3");
  assert.ok(table >= 0 && summary > table);
  assert.ok(lines.includes("ℹ fail 1"));
  assert.ok(lines.findIndex((l) => l.includes("failing tests:")) > summary);
});
