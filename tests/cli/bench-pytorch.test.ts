/**
 * The "pytorch" bench suite: without torch it reports nothing and says how to install it; a failing or garbled
 * script run is an error naming the script; figures come out one per update and thread count. Fake Pythons
 * (small shell scripts) stand in for python3, so no test needs torch; where Debian's python3-torch is installed,
 * the timing script's own self-test runs too.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IapoError } from "../../lib/core/errors";
import { projectRoot } from "../../lib/core/paths";
import { makePytorchSuite, torchImportable } from "../../lib/cli/bench/pytorch";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-bench-pytorch-"));

/** An executable shell script standing in for python3. */
function fakePython(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

const noTorch = fakePython("python-no-torch", `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`);
/** Imports torch fine (`-c ...`), and fails running any script. */
const failing = fakePython("python-failing", `[ "$1" = "-c" ] && exit 0; echo "Traceback: something broke in $1" >&2; exit 1`);
const garbled = fakePython("python-garbled", `[ "$1" = "-c" ] && exit 0; echo "not json"`);
const working = fakePython(
  "python-working",
  `[ "$1" = "-c" ] && exit 0
echo '{"torch": "9.9", "threads": '"$3"', "coreType": "SkylakeX", "figures": [{"name": "direct SAC update", "ms": 12.5}, {"name": "iterative update (5 it., N=1)", "ms": 70}]}'`,
);

test("without torch the suite reports nothing, does not throw, and says how to install it", async () => {
  for (const python of [noTorch, path.join(dir, "no-such-python")]) {
    const lines: string[] = [];
    const figures = await makePytorchSuite({ python, log: (l) => lines.push(l) }).run({ quick: true });
    assert.deepEqual(figures, []);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /cannot import torch/);
    assert.match(lines[0], /bash scripts\/setup\.sh --with-pytorch/);
  }
});

test("a failed script run is an IapoError naming the script and its stderr", async () => {
  const script = path.join(dir, "missing_script.py");
  await assert.rejects(makePytorchSuite({ python: failing, script }).run({ quick: true }), (err: Error) => {
    assert.ok(err instanceof IapoError, String(err));
    assert.ok(err.message.includes(script), err.message);
    assert.match(err.message, /exit code 1/);
    assert.match(err.message, /something broke in/);
    return true;
  });
  await assert.rejects(makePytorchSuite({ python: garbled, script }).run({ quick: true }), (err: Error) => {
    assert.ok(err instanceof IapoError && err.message.includes(script) && /JSON/.test(err.message), err.message);
    return true;
  });
});

test("figures: one per update and thread count, named as the backend suite's rows", async () => {
  const figures = await makePytorchSuite({ python: working, script: "bench.py", threads: [1, 2], modelBased: false }).run({ quick: true });
  assert.deepEqual(
    figures.map((f) => [f.suite, f.name, f.variant, f.value, f.unit]),
    [
      ["pytorch", "direct SAC update", "PyTorch 9.9, 1 thread", 12.5, "ms/update"],
      ["pytorch", "iterative update (5 it., N=1)", "PyTorch 9.9, 1 thread", 70, "ms/update"],
      ["pytorch", "direct SAC update", "PyTorch 9.9, 2 threads", 12.5, "ms/update"],
      ["pytorch", "iterative update (5 it., N=1)", "PyTorch 9.9, 2 threads", 70, "ms/update"],
    ],
  );
});

test("the PyTorch script's self-test passes (only where python3-torch is installed)", async (t) => {
  if (!(await torchImportable("/usr/bin/python3"))) {
    t.skip("no torch for /usr/bin/python3");
    return;
  }
  const script = path.join(projectRoot(), "scripts", "bench", "pytorch_sac_update.py");
  const r = spawnSync("/usr/bin/python3", [script, "--selftest"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).selftest, "passed");
});
