/**
 * The model-based side by side of the "pytorch" bench suite: the serving script's arguments and answers, the
 * ratio figures, and the alternating rounds against a fake script (a shell script speaking the protocol) and a
 * fake side of ours, so no test needs torch; the script's own self-test (bench-pytorch.test.ts) checks its maths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IapoError } from "../../lib/core/errors";
import { measureModelBasedSideBySide, parseServeReply, serveArgs, sideBySideFigures, type OurSide } from "../../lib/cli/bench/pytorch-model-based";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-bench-pytorch-mb-"));

test("serveArgs: the script, --serve, one thread count, --quick only when quick", () => {
  assert.deepEqual(serveArgs("s.py", 1, true), ["s.py", "--serve", "--threads", "1", "--quick"]);
  assert.deepEqual(serveArgs("s.py", 2, false), ["s.py", "--serve", "--threads", "2"]);
});

test("parseServeReply: the three answers, and clear errors for a refusal, garbage and bad ms", () => {
  assert.deepEqual(parseServeReply('{"torch": "1.13", "threads": 1, "coreType": null}', "s"), { kind: "hello", torch: "1.13", threads: 1 });
  assert.deepEqual(parseServeReply('{"ready": "mb-direct"}', "s"), { kind: "ready", key: "mb-direct" });
  assert.deepEqual(parseServeReply('{"ms": [1.5, 2]}', "s"), { kind: "ms", ms: [1.5, 2] });
  const fails = (line: string, pattern: RegExp): void => {
    assert.throws(() => parseServeReply(line, "the script"), (err: Error) => err instanceof IapoError && /the script/.test(err.message) && pattern.test(err.message));
  };
  fails('{"error": "cannot answer \'x\'"}', /refused: cannot answer 'x'/);
  fails("Traceback (most recent call last):", /not JSON/);
  fails('{"ms": []}', /want/);
  fails('{"ms": [1, null]}', /want/);
  fails('{"ms": [-1]}', /want/);
  fails("3", /not a JSON object/);
});

test("sideBySideFigures: medians of each side and PyTorch / ours per PyTorch form, with the 1.5x target", () => {
  const figures = sideBySideFigures(
    { name: "u", ours: [10, 30, 20, 25], torch: [{ label: "", ms: [50, 40, 60] }, { label: "fused form", ms: [30, 33, 36] }] },
    { ours: "ours", torch: "PyTorch 9.9, 1 thread" },
    2,
  );
  assert.deepEqual(
    figures.map((f) => [f.name, f.variant, f.value, f.unit]),
    [
      ["u", "ours", 22.5, "ms/update"],
      ["u", "PyTorch 9.9, 1 thread", 50, "ms/update"],
      ["u: PyTorch / ours", "PyTorch 9.9, 1 thread", 50 / 22.5, "x"],
      ["u", "PyTorch 9.9, 1 thread, fused form", 33, "ms/update"],
      ["u: PyTorch / ours", "PyTorch 9.9, 1 thread, fused form", 33 / 22.5, "x"],
    ],
  );
  assert.ok(figures.filter((f) => f.unit === "x").every((f) => f.note === "target >= 1.5x"));
});

/** A shell script speaking the serving protocol: logs each question to `log`, answers `ms` for every round. */
function fakeServer(name: string, log: string, body = 'echo \'{"ms": [40, 60]}\''): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh
echo '{"torch": "9.9", "threads": 1, "coreType": null}'
while read cmd key n; do
  echo "$cmd $key $n" >> ${log}
  case "$cmd" in
    start) echo "{\\"ready\\": \\"$key\\"}" ;;
    time) ${body} ;;
    quit) exit 0 ;;
  esac
done
`, { mode: 0o755 });
  return file;
}

/** Our side, logging into the same file, each update taking `ms` (20 ms). */
function fakeOurs(log: string, name = "fake", ms = 20): OurSide {
  const tag = name === "fake" ? "ours" : `ours ${name}`;
  return {
    label: `ours: ${name}`,
    start: (optimizer) => fs.appendFileSync(log, `${tag} start ${optimizer}\n`),
    time: (n) => {
      fs.appendFileSync(log, `${tag} time ${n}\n`);
      return Array.from({ length: n }, () => ms);
    },
    stop: () => fs.appendFileSync(log, `${tag} stop\n`),
  };
}

test("alternating rounds: ours and PyTorch's in turn (order flipping each round), then the ratio figures", async () => {
  const log = path.join(dir, "rounds.log");
  const python = fakeServer("server", log);
  const figures = await measureModelBasedSideBySide({ python, script: "s.py", quick: true, ours: fakeOurs(log) });
  const torchRound = (...keys: string[]): string[] => keys.map((k) => `time ${k} 2`);
  const lines = fs.readFileSync(log, "utf8").replace(/\n$/, "").split("\n");
  assert.deepEqual(lines, [
    "start mb-direct ", "ours start direct",
    "ours time 2", ...torchRound("mb-direct"),
    ...torchRound("mb-direct"), "ours time 2",
    "ours time 2", ...torchRound("mb-direct"),
    "ours stop",
    "start mb-iterative ", "start mb-iterative-reuse ", "ours start iterative",
    "ours time 2", ...torchRound("mb-iterative", "mb-iterative-reuse"),
    ...torchRound("mb-iterative", "mb-iterative-reuse"), "ours time 2",
    "ours time 2", ...torchRound("mb-iterative", "mb-iterative-reuse"),
    "ours stop",
    "quit  ",
  ]);
  const ratios = figures.filter((f) => f.unit === "x");
  assert.deepEqual(ratios.map((f) => [f.name, f.variant, f.value]), [
    ["direct SAC update, model-based (h=2): PyTorch / ours", "PyTorch 9.9, 1 thread", 2.5],
    ["iterative update (5 it., N=1), model-based (h=2): PyTorch / ours", "PyTorch 9.9, 1 thread", 2.5],
    ["iterative update (5 it., N=1), model-based (h=2): PyTorch / ours", "PyTorch 9.9, 1 thread, one backward per J (fused form)", 2.5],
  ]);
  assert.ok(figures.filter((f) => f.unit === "ms/update" && f.variant === "ours: fake").every((f) => f.value === 20));
});

test("two of our paths: each timed in every round, each with its ratios against the same PyTorch times", async () => {
  const log = path.join(dir, "two-sides.log");
  const python = fakeServer("server2", log);
  const figures = await measureModelBasedSideBySide({ python, script: "s.py", quick: true, ours: [fakeOurs(log, "fused", 10), fakeOurs(log, "tfjs", 40)] });
  const lines = fs.readFileSync(log, "utf8").replace(/\n$/, "").split("\n");
  assert.deepEqual(lines.slice(0, 5), ["start mb-direct ", "ours fused start direct", "ours tfjs start direct", "ours fused time 2", "ours tfjs time 2"]);
  assert.equal(lines.filter((l) => l === "ours fused stop").length, 2);
  const ratios = figures.filter((f) => f.unit === "x" && f.name.startsWith("direct"));
  assert.deepEqual(ratios.map((f) => [f.name, f.value]), [
    ["direct SAC update, model-based (h=2): PyTorch / ours (fused)", 5],
    ["direct SAC update, model-based (h=2): PyTorch / ours (tfjs)", 1.25],
  ]);
  assert.equal(figures.filter((f) => f.unit === "ms/update" && f.name.startsWith("direct") && f.variant.startsWith("PyTorch")).length, 1, "PyTorch's times once");
});

test("a script that refuses or dies mid-way is an IapoError naming it, and our side is stopped", async () => {
  const refusing = fakeServer("refusing", path.join(dir, "refusing.log"), 'echo \'{"error": "no such agent"}\'');
  const log = path.join(dir, "refused-ours.log");
  await assert.rejects(measureModelBasedSideBySide({ python: refusing, script: "s.py", quick: true, ours: fakeOurs(log) }), (err: Error) => {
    assert.ok(err instanceof IapoError && err.message.includes("s.py") && /refused: no such agent/.test(err.message), err.message);
    return true;
  });
  assert.match(fs.readFileSync(log, "utf8"), /ours stop\n$/);
  const dying = fakeServer("dying", path.join(dir, "dying.log"), "echo 'Traceback: boom' >&2; exit 1");
  await assert.rejects(measureModelBasedSideBySide({ python: dying, script: "s.py", quick: true, ours: fakeOurs(path.join(dir, "dying-ours.log")) }), (err: Error) => {
    assert.ok(err instanceof IapoError && /ended without answering/.test(err.message) && /Traceback: boom/.test(err.message), err.message);
    return true;
  });
});
