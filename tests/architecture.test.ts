/**
 * The one-way data flow of docs (README "Layout"): each folder of lib/ imports only from folders before it.
 * A new import that points backwards (plots importing agents, envs importing learning code, the library
 * importing the CLI) fails here, naming the file and the import.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../lib/core/paths";

/** Which lib/ folders each folder may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  backend: ["core"],
  envs: ["core"],
  nn: ["core", "backend"],
  policy: ["core", "backend", "nn"],
  agents: ["core", "backend", "envs", "nn", "policy"],
  runs: ["core"],
  analysis: ["core", "backend", "envs", "nn", "policy", "agents", "runs"],
  presets: ["core", "nn", "policy", "agents"],
  train: ["core", "backend", "envs", "nn", "policy", "agents", "runs", "analysis", "presets"],
  plots: ["core"],
  sweeps: ["core", "backend", "envs", "runs", "analysis", "presets", "train"],
  cli: ["core", "backend", "envs", "nn", "policy", "agents", "runs", "train", "analysis", "presets", "plots", "sweeps"],
};

/** Folders that may take only types (`import type`) from the folders they list besides core: presets reads the config types below it, and no code. */
const TYPES_ONLY = new Set(["presets"]);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/**
 * Relative module specifiers of `import ... from "x"`, `export ... from "x"`, `require("x")` and `import("x")`,
 * each marked whether it is a type-only import (`import type { ... } from "x"`).
 */
function relativeImports(source: string): { spec: string; typeOnly: boolean }[] {
  const specs: { spec: string; typeOnly: boolean }[] = [];
  const pattern = /(import\s+type\s+[^;]*?\s+from\s+|from\s+|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (let m = pattern.exec(source); m !== null; m = pattern.exec(source)) specs.push({ spec: m[2], typeOnly: /^import\s+type\s/.test(m[1]) });
  return specs;
}

test("every lib/ folder imports only from the folders before it in the data flow", () => {
  const lib = path.join(projectRoot(), "lib");
  const violations: string[] = [];
  let checked = 0;
  for (const file of sourceFiles(lib)) {
    const rel = path.relative(lib, file);
    const folder = rel.includes(path.sep) ? rel.split(path.sep)[0] : null;
    for (const { spec, typeOnly } of relativeImports(fs.readFileSync(file, "utf8"))) {
      const target = path.relative(lib, path.resolve(path.dirname(file), spec));
      if (target.startsWith("..")) {
        violations.push(`${rel} imports ${spec}, outside lib/`);
        continue;
      }
      const targetFolder = target.split(path.sep)[0];
      checked++;
      if (folder === null) continue; // lib/index.ts is the public API: it may re-export everything
      if (targetFolder === folder) continue;
      if (!(folder in ALLOWED)) violations.push(`${rel}: folder "${folder}" has no place in the data flow (add it to ALLOWED)`);
      else if (!ALLOWED[folder].includes(targetFolder)) violations.push(`${rel} imports ${spec} (${folder} → ${targetFolder})`);
      else if (TYPES_ONLY.has(folder) && targetFolder !== "core" && !typeOnly) violations.push(`${rel} imports code from ${spec} (${folder} may take only types from ${targetFolder})`);
    }
  }
  assert.ok(checked > 100, `only ${checked} imports found: is the pattern still right?`);
  assert.deepEqual(violations, []);
});

test("only the environments, the presets and the command line name a task of the paper", () => {
  const lib = path.join(projectRoot(), "lib");
  const below = Object.keys(ALLOWED).filter((f) => !["envs", "presets", "cli"].includes(f));
  const names = /\b(Hopper|HalfCheetah|Walker2d|Ant)(-v\d)?\b/;
  const offenders: string[] = [];
  for (const folder of below) {
    for (const file of sourceFiles(path.join(lib, folder))) {
      const lines = fs.readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        // comments may cite the paper's figures for a task; code may not branch on one
        const code = line.replace(/\/\/.*$/, "").replace(/^\s*\*.*$/, "").replace(/\/\*.*?\*\//g, "");
        if (names.test(code)) offenders.push(`${path.relative(lib, file)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(offenders, []);
});
