/**
 * The benchmark's FLOP count of an update (lib/cli/bench/updates.ts) against the multiply-adds the native
 * kernels actually do in one fused update: the ratio-to-limit figures are only as honest as this count.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { useBackend } from "../../lib/backend/select";
import { nativeForTests } from "../backend/native-available";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { SacAgent } from "../../lib/agents/sac/agent";
import type { SacConfig } from "../../lib/agents/sac/config";
import { defaultSacConfig } from "../../lib/presets";
import { Rng } from "../../lib/core/rng";
import { updateFlops } from "../../lib/cli/bench/updates";

const { native, skip } = nativeForTests();

test("updateFlops equals the multiply-adds of one fused update, x2", { skip }, async () => {
  await useBackend("wasm-native");
  assert.ok(native.ok);
  const shapes = { observationSize: 5, actionSize: 2 };
  const rng = new Rng(0);
  const buffer = new ReplayBuffer(64, shapes.observationSize, shapes.actionSize);
  for (let i = 0; i < 64; i++) {
    buffer.add(rng.fillNormal(new Float32Array(5)), rng.fillUniform(new Float32Array(2), -1, 1), rng.normal(), rng.fillNormal(new Float32Array(5)), false);
  }
  const cases: Array<Partial<SacConfig> & Pick<SacConfig, "optimizer">> = [
    { optimizer: "direct", samples: 1 },
    { optimizer: "direct", samples: 3 },
    { optimizer: "iterative", samples: 1, inputNormalization: "layer" },
    { optimizer: "iterative", samples: 4, inputNormalization: "layer+scale", iterations: { train: 3, act: 2, eval: 2 } },
    { optimizer: "direct", samples: 2, qArchitecture: "B" },
    { optimizer: "iterative", samples: 1, qArchitecture: "B", iterations: { train: 2, act: 2, eval: 2 } },
  ];
  for (const c of cases) {
    const config: SacConfig = { ...defaultSacConfig("HalfCheetah-v2", c.optimizer, "smoke"), qArchitecture: "A", batchSize: 32, policyHiddenSizes: [24, 16], ...c };
    const agent = SacAgent.create(config, shapes, rng.fork());
    assert.deepEqual(agent.updatePath(), { path: "fused" }, "the update takes the fused path");
    agent.update(buffer.sample(32, rng)); // first update: Adam slots and workspaces
    const before: number = native.addon.macCount();
    agent.update(buffer.sample(32, rng));
    const macs: number = native.addon.macCount() - before;
    agent.dispose();
    assert.equal(updateFlops(config, shapes), 2 * macs, `${c.optimizer}, N=${c.samples}, ${config.inputNormalization}, Q ${config.qArchitecture}`);
  }
});
