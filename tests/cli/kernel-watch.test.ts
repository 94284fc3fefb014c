/**
 * The kernel's compiler must not see a change where there is none: with the runner's KERNEL_WATCH_ENV, making and
 * removing hard links to a declaration file a notebook imports (what another checkout sharing node_modules does)
 * reaches none of tslab's watchers, while with the compiler's default file-system events it does (the control:
 * this machine does deliver such events, so the first assertion can fail).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { KERNEL_WATCH_ENV, notebooksDir } from "../../lib/cli/notebooks";

const root = projectRoot();

/** In a fresh process with `env`: tslab's converter compiles an import of the library, then a watched file's links churn. */
function watcherEvents(env: NodeJS.ProcessEnv): number {
  const script = `
    const fs = require("node:fs");
    const path = require("node:path");
    const { createConverter } = require(${JSON.stringify(path.join(root, "node_modules", "tslab", "dist", "converter.js"))});
    let events = 0;
    const converter = createConverter({ _fileWatcher: () => events++ });
    const out = converter.convert("", 'import { activeScale } from "iapo";\\nconst scale = activeScale();');
    if (out.diagnostics.length > 0) throw new Error(JSON.stringify(out.diagnostics));
    const watched = ${JSON.stringify(path.join(root, "node_modules", "@types", "node", "globals.d.ts"))};
    let round = 0;
    const churn = () => {
      const link = ${JSON.stringify(root)} + "/.iapo-watch-test-" + process.pid + "-" + round;
      fs.linkSync(watched, link);
      fs.unlinkSync(link);
      if (++round < 3) setTimeout(churn, 300);
      else setTimeout(() => { console.log(JSON.stringify({ events })); process.exit(0); }, 2500);
    };
    setTimeout(churn, 300);
  `;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TSC_WATCH")));
  const r = spawnSync(process.execPath, ["-e", script], { cwd: notebooksDir(), env: { ...clean, ...env }, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as { events: number }).events;
}

test("with the runner's watch settings, hard links made and removed next to a watched file change nothing for the kernel", { timeout: 3 * 60_000 }, () => {
  assert.ok(watcherEvents({}) > 0, "control: file-system events reach the default watchers");
  assert.equal(watcherEvents(KERNEL_WATCH_ENV), 0);
});
