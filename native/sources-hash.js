#!/usr/bin/env node
// The version of the native addon: a hash of its sources (native/*.cc and *.h, in name order). binding.gyp
// compiles it into the addon (its `version`), and lib/backend/native.ts computes it again from the sources beside
// the addon at load: an addon built from other sources than these is refused, with the command that rebuilds it.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/** "s" + the first 16 hex digits of SHA-256 over each source's name and bytes (a C identifier, for the build). */
function sourcesHash(dir = __dirname) {
  const hash = crypto.createHash("sha256");
  const names = fs.readdirSync(dir).filter((n) => /\.(cc|h)$/.test(n)).sort();
  if (names.length === 0) throw new Error(`no native sources (*.cc, *.h) in ${dir}`);
  for (const name of names) {
    hash.update(`${name}\n`);
    hash.update(fs.readFileSync(path.join(dir, name)));
  }
  return `s${hash.digest("hex").slice(0, 16)}`;
}

module.exports = { sourcesHash };

if (require.main === module) process.stdout.write(sourcesHash());
