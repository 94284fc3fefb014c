/** Small networks for the model-based tests, from one Rng in one order, so each test's draws stay its own. */
import { Rng } from "../../lib/core/rng";
import { QNetwork } from "../../lib/nn/q-network";
import { Q_ARCHITECTURES } from "../../lib/nn/architectures";
import { LearnedModel } from "../../lib/agents/model-based/model";
import { RolloutPolicy } from "../../lib/agents/model-based/rollout-policy";
import type { LogStdBounds } from "../../lib/policy/params";

/**
 * Two Q-networks (architecture A), a learned model whose output layers are random (it starts with zeros, which
 * would hide its gradients) and a rollout policy, all 2 x 16.
 */
export function smallModelBasedNets(O: number, A: number, rng: Rng, logStdBounds?: LogStdBounds): { qs: QNetwork[]; model: LearnedModel; policy: RolloutPolicy; dispose: () => void } {
  const body = { ...Q_ARCHITECTURES.A, hiddenSizes: [16, 16] };
  const qs = [QNetwork.create(body, O, A, rng.fork()), QNetwork.create(body, O, A, rng.fork())];
  const model = new LearnedModel(O, A, [16, 16], rng.fork());
  const data = model.params.toData();
  for (const [name, d] of Object.entries(data)) if (name.includes("output/w")) d.values = rng.fillNormal(new Float32Array(d.values.length), 0, 0.3) as Float32Array;
  model.params.setData(data);
  const policy = new RolloutPolicy(O, A, { hiddenSizes: [16, 16], activation: "relu" }, rng.fork(), logStdBounds ? { logStdBounds } : {});
  return { qs, model, policy, dispose: () => [...qs, model, policy].forEach((p) => p.dispose()) };
}
