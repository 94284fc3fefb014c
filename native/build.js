#!/usr/bin/env node
// Builds the native kernels (native/build/Release/iapo_native.node, from the sources listed in binding.gyp) with
// node-gyp during `npm ci` / `npm install`. A failed build is reported and tolerated, so installing never fails:
// the library then runs on its pure-JS fallback, and `npm test` fails in tests/backend/native-required.test.ts
// on x86-64 and arm64 Linux, where the build is expected to work, saying why the addon did not load. Set
// IAPO_SKIP_NATIVE=1 to skip the build (and IAPO_BACKEND=wasm-js to run the tests without the addon on purpose).
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const fs = require("node:fs");

const here = __dirname;

function nodeGypCommand() {
  // npm sets npm_config_node_gyp to its bundled node-gyp inside lifecycle scripts; outside them, look next to npm.
  const candidates = [process.env.npm_config_node_gyp];
  try {
    const npmDir = path.dirname(require.resolve("npm/package.json", { paths: [path.dirname(process.execPath) + "/../lib/node_modules"] }));
    candidates.push(path.join(npmDir, "node_modules/node-gyp/bin/node-gyp.js"));
  } catch {
    // npm not found beside node: fall through to the PATH
  }
  for (const c of candidates) {
    if (c && fs.existsSync(c)) return [process.execPath, c];
  }
  return ["node-gyp"];
}

function main() {
  if (process.env.IAPO_SKIP_NATIVE === "1") {
    console.log("iapo: IAPO_SKIP_NATIVE=1, native kernels not built");
    return;
  }
  const [cmd, ...pre] = nodeGypCommand();
  const args = [...pre, "rebuild", "--loglevel=warn"];
  // Use the Node headers installed with node itself (no download: machines may be offline) unless npm names a nodedir.
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, "include/node/node_api.h"))) {
    args.push(`--nodedir=${prefix}`);
  }
  const res = spawnSync(cmd, args, { cwd: here, stdio: "inherit", env: process.env });
  if (res.status === 0) {
    console.log("iapo: native kernels built (native/build/Release/iapo_native.node)");
  } else {
    const why = res.error ? res.error.message : `exit code ${res.status}`;
    console.warn(`iapo: native kernels NOT built (${why}); training will use the slower pure-JS fallback.`);
    console.warn("iapo: to enable them install libopenblas-dev, g++, python3 and run `node native/build.js`.");
  }
}

try {
  main();
} catch (err) {
  console.warn(`iapo: native build skipped: ${err instanceof Error ? err.message : String(err)}`);
}
