/**
 * Time per SAC update on the active backend at the paper's shapes (obs 17, action 6 as HalfCheetah/Walker2d,
 * batch 256, 2 x 256 networks, Q architecture A): one direct update (2 Q + targets + policy + α), and one
 * iterative update (5 iterations) with N = 1 and N = 10 action samples; with each, its matmul FLOPs counted
 * analytically (2·m·k·n per forward matmul, twice that per backward).
 */
import { tf } from "../../backend/tf";
import { ReplayBuffer } from "../../agents/replay-buffer";
import { SacAgent } from "../../agents/sac/agent";
import { defaultSacConfig, type SacConfig } from "../../agents/sac/config";
import { Rng } from "../../core/rng";
import { Q_ARCHITECTURES } from "../../nn/architectures";
import { normalizedSize } from "../../policy/input-normalization";
import { fusedSacUpdatesEnabled, setFusedSacUpdates } from "../../agents/sac/fused-update";
import { activeAddon } from "../../backend/wasm-kernels";

const OBS = 17;
const ACT = 6;
const BATCH = 256;
const HIDDEN = [256, 256];

/** Multiply-adds per example of an MLP with the given sizes (input, hidden..., output). */
function macs(sizes: number[]): number {
  let m = 0;
  for (let i = 1; i < sizes.length; i++) m += sizes[i - 1] * sizes[i];
  return m;
}

/**
 * FLOPs of one update. Forward = 2·MACs; a differentiated pass costs forward + 2x forward for the backward.
 * Q: 2 networks. J evaluation on B·N actions = 2 Q forwards; ∇λ J adds a backward through both Q-networks.
 */
export function updateFlops(c: Pick<SacConfig, "optimizer" | "samples" | "iterations">, batch = BATCH): number {
  const qMacs = macs([OBS + ACT, ...Q_ARCHITECTURES.A.hiddenSizes, 1]);
  const fwdQ = (rows: number): number => 2 * 2 * qMacs * rows; // both Q-networks
  const n = c.samples;
  const qUpdate = 3 * fwdQ(batch);
  if (c.optimizer === "direct") {
    const pMacs = macs([OBS, ...HIDDEN, 2 * ACT]);
    const target = 2 * pMacs * batch + fwdQ(batch * n);
    const policy = 3 * 2 * pMacs * batch + 3 * fwdQ(batch * n); // backward through Q to the actions
    return target + qUpdate + policy;
  }
  const inputs = normalizedSize(OBS, "layer+scale") + 4 * normalizedSize(ACT, "layer+scale");
  const itMacs = macs([inputs, ...HIDDEN, 4 * ACT]);
  const k = c.iterations.train;
  // Acting-style run for the target: K × (J + ∇λJ + network) then V(s') with the target Q.
  const target = k * (3 * fwdQ(batch * n) + 2 * itMacs * batch) + fwdQ(batch * n);
  // Training run: each iteration J + ∇λJ (3x) + the outer backward through J (2x); final J (3x); K network passes (3x).
  const policy = k * (5 * fwdQ(batch * n) + 3 * 2 * itMacs * batch) + 3 * fwdQ(batch * n);
  return target + qUpdate + policy;
}

/** The three measured variants. */
function variants(): Array<{ name: string; config: SacConfig }> {
  const base = (optimizer: "direct" | "iterative"): SacConfig => ({
    ...defaultSacConfig("HalfCheetah-v2", optimizer, "paper"),
    qArchitecture: "A",
    batchSize: BATCH,
    policyHiddenSizes: HIDDEN.slice(),
    bufferSize: 4 * BATCH,
  });
  return [
    { name: "direct SAC update", config: { ...base("direct"), samples: 1 } },
    { name: "iterative update (5 it., N=1)", config: { ...base("iterative"), samples: 1 } },
    { name: "iterative update (5 it., N=10)", config: { ...base("iterative"), samples: 10 } },
  ];
}

/** ms per full update for each variant on the active backend (call initBackend first), and its FLOPs. */
export async function measureUpdates(options: { quick: boolean }): Promise<Array<{ name: string; msPerUpdate: number; flops: number }>> {
  const out: Array<{ name: string; msPerUpdate: number; flops: number }> = [];
  const rng = new Rng(0);
  const buffer = new ReplayBuffer(4 * BATCH, OBS, ACT);
  for (let i = 0; i < 4 * BATCH; i++) {
    buffer.add(rng.fillNormal(new Float32Array(OBS)), rng.fillUniform(new Float32Array(ACT), -1, 1), rng.normal(), rng.fillNormal(new Float32Array(OBS)), false);
  }
  const repeats = options.quick ? 3 : 10;
  // Where the fused update applies (native addon active), each variant also runs on the tfjs autodiff path,
  // side by side in this process, so the gain is measured under the same load.
  const paths = activeAddon() && fusedSacUpdatesEnabled() ? [true, false] : [null];
  const wasEnabled = fusedSacUpdatesEnabled();
  for (const { name: base, config } of variants()) for (const fused of paths) {
    const name = fused === false ? `${base} [tfjs autodiff path]` : base;
    if (fused !== null) setFusedSacUpdates(fused);
    const agent = SacAgent.create(config, { observationSize: OBS, actionSize: ACT }, rng.fork());
    const batches = Array.from({ length: repeats + 1 }, () => buffer.sample(BATCH, rng));
    agent.update(batches[0]); // warm-up: kernels, weight caches, Adam slots
    const times: number[] = [];
    for (let i = 1; i <= repeats; i++) {
      const t0 = performance.now();
      agent.update(batches[i]);
      times.push(performance.now() - t0);
    }
    agent.dispose();
    setFusedSacUpdates(wasEnabled);
    times.sort((a, b) => a - b);
    out.push({ name, msPerUpdate: times[Math.floor(times.length / 2)], flops: updateFlops(config) });
    await tf.nextFrame();
  }
  return out;
}

/**
 * ms per `act` (one observation, "explore") for each variant's agent on the active backend: the acting run of
 * the policy optimizer (iterative: 5 iterations, each with J and ∇λ J through both Q-networks). Where the fused
 * path applies, the tfjs path is timed beside it in this process.
 */
export async function measureActs(options: { quick: boolean }): Promise<Array<{ name: string; msPerAct: number }>> {
  const out: Array<{ name: string; msPerAct: number }> = [];
  const rng = new Rng(1);
  const observations = Array.from({ length: 8 }, () => rng.fillNormal(new Float32Array(OBS)));
  const paths = activeAddon() && fusedSacUpdatesEnabled() ? [true, false] : [null];
  const wasEnabled = fusedSacUpdatesEnabled();
  for (const { name: base, config } of variants()) for (const fused of paths) {
    const name = `${base.replace(/ (SAC )?update/, "")} act, batch 1${fused === false ? " [tfjs path]" : ""}`;
    if (fused !== null) setFusedSacUpdates(fused);
    const agent = SacAgent.create(config, { observationSize: OBS, actionSize: ACT }, rng.fork());
    const reps = fused === false && options.quick ? 5 : 30;
    agent.act(observations[0], "explore"); // warm-up
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      agent.act(observations[i % observations.length], "explore");
      times.push(performance.now() - t0);
    }
    agent.dispose();
    setFusedSacUpdates(wasEnabled);
    times.sort((a, b) => a - b);
    out.push({ name, msPerAct: times[Math.floor(times.length / 2)] });
    await tf.nextFrame();
  }
  return out;
}
