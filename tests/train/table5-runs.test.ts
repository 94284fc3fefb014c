import { test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../../lib/runs";
import { runsWithTable5Architecture } from "../../lib/train";

function run(env: string, optimizer: string, q: unknown): Run {
  return { dir: `/x/${env}-${optimizer}-${String(q)}`, id: `${env}-${optimizer}-${String(q)}`, config: { env, optimizer, seed: 0, agent: { qArchitecture: q } }, provenance: [], backends: [], status: null, metrics: [], truncatedTail: false };
}

test("Table 5's runs out of a grid over both Q architectures: one per task and optimizer, A off the table", () => {
  const grid = ["Hopper-v2", "HalfCheetah-v2", "Walker2d-v2", "Ant-v2", "Pendulum-v1"].flatMap((env) =>
    ["direct", "iterative"].flatMap((optimizer) => ["A", "B"].map((q) => run(env, optimizer, q))),
  );
  assert.deepEqual(runsWithTable5Architecture(grid).map((r) => r.id), [
    "Hopper-v2-direct-A", "Hopper-v2-iterative-A",
    "HalfCheetah-v2-direct-B", "HalfCheetah-v2-iterative-A",
    "Walker2d-v2-direct-A", "Walker2d-v2-iterative-B",
    "Ant-v2-direct-B", "Ant-v2-iterative-B",
    "Pendulum-v1-direct-A", "Pendulum-v1-iterative-A",
  ]);
});

test("a run without a Q architecture is named in the error", () => {
  assert.throws(() => runsWithTable5Architecture([run("Hopper-v2", "direct", undefined)]), /\/x\/Hopper-v2-direct-undefined\/run\.json: config has no Q architecture/);
});
