/**
 * SAC learns: on Pendulum, with either policy optimizer, the deterministic policy's return after a few thousand
 * steps is far above a uniformly random policy's on the same evaluation episodes (below −900): it must score above
 * −400, which takes swinging the pendulum up and holding it (a policy that only pumps energy stays below −600). A learning
 * rate of 1e-3 and small policy networks keep this short on two cores; everything else is the paper's SAC.
 *
 * Steps: with this seed both optimizers' evaluations stay near the random policy's up to ~3000 steps and reach
 * −130 to −210 from 3500 on (evaluations every 500 steps); 4000 steps leave 500 steps of margin for the onset to move
 * with any change in the numbers, and a run that does not learn cannot pass.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { makeEnv } from "../../lib/envs";
import { loadRun } from "../../lib/runs";
import { buildTrainConfig, evalSeed, evaluate, train } from "../../lib/train";

const STEPS = 4000;
const EPISODES = 5;
const SEED = 2;

/** Mean return of a uniformly random policy on the episodes the run's final evaluation uses. */
async function randomPolicyReturn(): Promise<number> {
  const env = await makeEnv("Pendulum-v1");
  const rng = new Rng(123);
  try {
    const random = { act: (): Float32Array => Float32Array.from({ length: env.actionSize }, () => rng.uniform(-1, 1)) };
    return evaluate(random, env, EPISODES, evalSeed(SEED, 0)).mean;
  } finally {
    env.dispose();
  }
}

for (const optimizer of ["direct", "iterative"] as const) {
  test(`SAC with the ${optimizer} optimizer learns Pendulum within ${STEPS} steps`, { timeout: 20 * 60_000 }, async (t) => {
    await initBackend();
    const config = buildTrainConfig({
      env: "Pendulum-v1", optimizer, seed: SEED, scale: "smoke", totalSteps: STEPS, evalEvery: STEPS, evalEpisodes: EPISODES,
      schedule: { initialRandomSteps: 500, logEvery: 500, checkpointEvery: STEPS },
      agent: { batchSize: 64, policyHiddenSizes: [64, 64], learningRate: 1e-3 },
    });
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "iapo-learn-")), optimizer);
    await train(config, { runDir: dir });
    const evals = loadRun(dir).metrics.filter((m) => typeof m["eval/return_mean"] === "number");
    assert.equal(evals.length, 1);
    const learned = evals[0]["eval/return_mean"] as number;
    const random = await randomPolicyReturn();
    t.diagnostic(`evaluation return after ${STEPS} steps: ${learned.toFixed(0)}; random policy: ${random.toFixed(0)}`);
    assert.ok(random < -900, `random policy return ${random.toFixed(0)} (expected below -900)`);
    assert.ok(learned > -400, `${optimizer}: learned return ${learned.toFixed(0)} (random policy ${random.toFixed(0)}), expected above -400`);
  });
}
