/**
 * Time per SAC update on the active backend at the paper's shapes (obs 17, action 6 as HalfCheetah/Walker2d,
 * batch 256, 2 x 256 networks, Q architecture A): one direct update (2 Q + targets + policy + α) with N = 1 and
 * N = 10 action samples (the authors' code's 10 for every optimizer), and one iterative update (5 iterations) with
 * N = 1 and N = 10; with each, its matmul FLOPs counted analytically (2·m·k·n per forward matmul, twice that per
 * backward). Beside them the direct and iterative updates with model-based values (Eq. 13, h = 2, Table 7's
 * model; model and distillation steps included), which run on the tfjs autodiff path only (FLOPs not counted).
 */
import { tf } from "../../backend/tf";
import { ReplayBuffer } from "../../agents/replay-buffer";
import { SacAgent } from "../../agents/sac/agent";
import type { SacConfig } from "../../agents/sac/config";
import { defaultSacConfig, presetSacConfig } from "../../presets/presets";
import { Rng } from "../../core/rng";
import { median } from "../../core/stats";
import { Q_ARCHITECTURES } from "../../nn/architectures";
import { normalizedSize } from "../../policy/input-normalization";
import { fusedSacUpdatesEnabled, setFusedSacUpdates } from "../../agents/sac/fused-update";
import { activeAddon } from "../../backend/wasm-kernels";
import { readCpuTimes, stealPercent } from "./steal";

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
 * Matmul FLOPs (2 per multiply-add) of one update as the algorithm needs them, counted as the fused path
 * (lib/agents/sac/fused-update.ts) computes: each J evaluation runs the Q-networks on the N·B actions only (the
 * states' part of the first layer once per run), ∇λ J is one backward pass to the actions, and the iterative
 * network's training gradient reuses the ∇λ J of the next step (its inputs are detached). The tfjs path does
 * more work for the same update (it differentiates J twice); its ratio to the limit uses this count as well.
 * tests/cli/bench-flops.test.ts checks it against the multiply-adds the native kernels count.
 */
export function updateFlops(
  c: Pick<SacConfig, "optimizer" | "samples" | "iterations" | "inputNormalization" | "policyHiddenSizes" | "batchSize" | "qArchitecture">,
  shapes: { observationSize: number; actionSize: number } = { observationSize: OBS, actionSize: ACT },
): number {
  const { observationSize: o, actionSize: a } = shapes;
  const batch = c.batchSize;
  const hidden = c.policyHiddenSizes;
  const q = Q_ARCHITECTURES[c.qArchitecture];
  const qHidden = q.hiddenSizes;
  // highway layers (all but the first) multiply by their gate's weights as well
  const gates = q.connectivity === "highway" ? qHidden.slice(1).reduce((sum, h, i) => sum + qHidden[i] * h, 0) : 0;
  const qFull = macs([o + a, ...qHidden, 1]) + gates;
  const qFirstIn = (o + a) * qHidden[0];
  const qOnActions = qFull - o * qHidden[0]; // forward on the actions, the states' part precomputed
  const statePart = 2 * batch * o * qHidden[0]; // both networks
  const rows = c.samples * batch;
  const jValue = 2 * rows * qOnActions; // both networks, forward
  const jWithGrad = 2 * jValue; // + the backward to the actions (same sizes)
  // Q step: forward, dw (all layers), dx (all but the first), both networks.
  const qStep = 2 * batch * (qFull + qFull + (qFull - qFirstIn));
  // A policy network's backward: dw of every layer, dx of all but the first.
  const backward = (sizes: number[]): number => batch * (2 * macs(sizes) - sizes[0] * sizes[1]);
  let m: number;
  if (c.optimizer === "direct") {
    const sizes = [o, ...hidden, 2 * a];
    const target = batch * macs(sizes) + statePart + jValue;
    const policy = statePart + batch * macs(sizes) + jWithGrad + backward(sizes);
    m = target + qStep + policy;
  } else {
    const sizes = [normalizedSize(o, c.inputNormalization) + 4 * normalizedSize(a, c.inputNormalization), ...hidden, 4 * a];
    const kAct = c.iterations.act;
    const kTrain = c.iterations.train;
    const target = statePart + kAct * (jWithGrad + batch * macs(sizes)) + statePart + jValue;
    const policy = statePart + (kTrain + 1) * jWithGrad + kTrain * (batch * macs(sizes) + backward(sizes));
    m = target + qStep + policy;
  }
  return 2 * m;
}

/**
 * The implementations each variant is timed on, side by side in this process so they share the same load:
 * where the fused update applies (native addon active), the fused path with the threads this process uses and,
 * where that is two, with one (the figure to set beside single-threaded PyTorch), alternating in short blocks
 * on one agent so that both see the same moments of a shared machine; then the tfjs autodiff path. Elsewhere,
 * whatever the active backend runs.
 */
function paths(): Array<{ fused: boolean | null; threads: Array<{ n: number | null; label: string }> }> {
  const addon = activeAddon();
  if (!addon || !fusedSacUpdatesEnabled()) return [{ fused: null, threads: [{ n: null, label: "" }] }];
  const threads = addon.blasInfo().threads;
  return [
    { fused: true, threads: [{ n: threads, label: "" }, ...(threads > 1 ? [{ n: 1, label: " [1 thread]" }] : [])] },
    { fused: false, threads: [{ n: null, label: " [tfjs autodiff path]" }] },
  ];
}

/** Model-based updates: `updateFlops` counts the model-free networks' work only, so they get no FLOPs figure. */
const modelBased = (config: SacConfig): boolean => config.valueEstimate === "model-based";

/** The bench's shapes: HalfCheetah's observation and action sizes. */
export const BENCH_SHAPES = { observationSize: OBS, actionSize: ACT };

/** Transitions per update. */
export const BENCH_BATCH = BATCH;

/** A replay buffer of 4 batches of random transitions (normal states and rewards, uniform actions), from `rng`. */
export function benchReplay(rng: Rng): ReplayBuffer {
  const buffer = new ReplayBuffer(4 * BATCH, OBS, ACT);
  for (let i = 0; i < 4 * BATCH; i++) {
    buffer.add(rng.fillNormal(new Float32Array(OBS)), rng.fillUniform(new Float32Array(ACT), -1, 1), rng.normal(), rng.fillNormal(new Float32Array(OBS)), false);
  }
  return buffer;
}

/** The paper preset's HalfCheetah-v2 config at the bench's sizes (Q architecture A, batch 256, 2 x 256 policy). */
function base(optimizer: "direct" | "iterative"): SacConfig {
  return { ...defaultSacConfig("HalfCheetah-v2", optimizer, "paper"), qArchitecture: "A", batchSize: BATCH, policyHiddenSizes: HIDDEN.slice() };
}

/** The updates with model-based values (Eq. 13, h = 2, N = 1), direct and iterative (5 iterations). */
export function modelBasedVariants(): Array<{ name: string; optimizer: "direct" | "iterative"; config: SacConfig }> {
  return [
    { name: "direct SAC update, model-based (h=2)", optimizer: "direct", config: { ...base("direct"), samples: 1, valueEstimate: "model-based" } },
    { name: "iterative update (5 it., N=1), model-based (h=2)", optimizer: "iterative", config: { ...base("iterative"), samples: 1, valueEstimate: "model-based" } },
  ];
}

/**
 * Warm-up before timing an agent's updates: kernels, weight caches, Adam slots, and V8 optimising the update's
 * JavaScript, which takes updates, not time: a fresh agent's direct updates run about twice their steady time at
 * first and ~10% above it up to about the 100th; a few dozen warm-up updates would leave the timed ones in that
 * stretch. Training runs at the steady figure, so warm up for 2 s (0.5 s quick; at most 500 updates, at least one:
 * the stock backends take seconds per update). The PyTorch script warms up alike.
 */
export function warmUp(agent: SacAgent, buffer: ReplayBuffer, rng: Rng, quick: boolean): void {
  const warmMs = quick ? 500 : 2_000;
  const warmStart = performance.now();
  for (let n = 0; n < 500 && (n === 0 || performance.now() - warmStart < warmMs); n++) agent.update(buffer.sample(BATCH, rng));
}

/** The measured variants; `acts: false` where acting is another variant's (a direct policy acts without J). */
function variants(): Array<{ name: string; config: SacConfig; acts?: false }> {
  const archA: Array<{ name: string; config: SacConfig; acts?: false }> = [
    { name: "direct SAC update", config: { ...base("direct"), samples: 1 } },
    { name: "direct SAC update (N=10)", config: { ...base("direct"), samples: 10 }, acts: false },
    { name: "iterative update (5 it., N=1)", config: { ...base("iterative"), samples: 1 } },
    { name: "iterative update (5 it., N=10)", config: { ...base("iterative"), samples: 10 } },
    ...modelBasedVariants().map(({ name, config }) => ({ name, config })),
  ];
  // Architecture B (Table 5's choice for HalfCheetah direct, Walker2d iterative, Ant) where the native path runs
  // it; on the other backends its tfjs updates would take minutes of the bench.
  if (!activeAddon()) return archA;
  return [
    ...archA,
    { name: "direct SAC update, Q architecture B", config: { ...base("direct"), qArchitecture: "B", samples: 1 } },
    { name: "direct SAC update (N=10), Q architecture B", config: { ...base("direct"), qArchitecture: "B", samples: 10 }, acts: false },
    { name: "iterative update (5 it., N=1), Q architecture B", config: { ...base("iterative"), qArchitecture: "B", samples: 1 } },
  ];
}

/**
 * The paper preset's updates as a run on Hopper-v2 gets them (Q architecture A, 10 samples for J, direct
 * included), on this bench's shapes.
 */
function paperPresetVariants(): Array<{ name: string; config: SacConfig }> {
  return (["direct", "iterative"] as const).map((optimizer) => {
    const config = presetSacConfig("paper", "Hopper-v2", optimizer, "paper");
    const iterations = optimizer === "iterative" ? `${config.iterations.train} it., ` : "";
    return { name: `${optimizer} update, paper preset (${iterations}N=${config.samples}, Q arch ${config.qArchitecture})`, config };
  });
}

/** One variant's figure: median ms per update, its FLOPs, and the hypervisor's share of CPU time while it ran. */
export interface UpdateTiming {
  name: string;
  msPerUpdate: number;
  /** Matmul FLOPs (updateFlops); null for the model-based updates, which it does not count. */
  flops: number | null;
  /** Percent of CPU time stolen by the host during the timed blocks (./steal.ts); null off Linux. */
  stealPercent: number | null;
}

/** ms per full update for each variant on the active backend (call initBackend first), and its FLOPs. */
export async function measureUpdates(options: { quick: boolean }): Promise<UpdateTiming[]> {
  const out: UpdateTiming[] = [];
  const rng = new Rng(0);
  const buffer = benchReplay(rng);
  // Blocks of consecutive updates per thread setting, the first of each block not timed: training runs at one
  // setting, and alternating update by update would time every two-thread update just after a one-thread one, with
  // the native worker thread asleep (it sleeps after 3 ms without work) and woken where the scheduler likes, often
  // on the caller's core: about twice a two-thread update's steady time. Blocks continue up to `maxBlocks`, or until `budgetMs` has passed with at least one block each (the stock
  // backends take seconds per update).
  const maxBlocks = options.quick ? 1 : 20;
  const perBlock = options.quick ? 3 : 6;
  const budgetMs = options.quick ? 5_000 : 30_000;
  const wasEnabled = fusedSacUpdatesEnabled();
  const addon = activeAddon();
  const threadsBefore = addon?.blasInfo().threads ?? 1;
  for (const { name: base, config } of [...variants(), ...paperPresetVariants()]) for (const run of paths()) {
    if (run.fused !== null) setFusedSacUpdates(run.fused);
    const agent = SacAgent.create(config, { observationSize: OBS, actionSize: ACT }, rng.fork());
    const settings = run.threads;
    warmUp(agent, buffer, rng, options.quick);
    const times: number[][] = settings.map(() => []);
    const cpuBefore = readCpuTimes();
    const start = performance.now();
    for (let block = 0; block < maxBlocks && (block === 0 || performance.now() - start < budgetMs); block++) {
      settings.forEach((setting, k) => {
        if (addon && setting.n !== null) addon.setThreads(setting.n);
        for (let i = 0; i <= perBlock; i++) {
          const batch = buffer.sample(BATCH, rng);
          const t0 = performance.now();
          agent.update(batch);
          if (i > 0) times[k].push(performance.now() - t0);
        }
      });
    }
    const steal = stealPercent(cpuBefore, readCpuTimes());
    agent.dispose();
    setFusedSacUpdates(wasEnabled);
    addon?.setThreads(threadsBefore);
    settings.forEach((setting, k) => {
      out.push({ name: `${base}${setting.label}`, msPerUpdate: median(times[k]), flops: modelBased(config) ? null : updateFlops(config), stealPercent: steal });
    });
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
  const wasEnabled = fusedSacUpdatesEnabled();
  // one state is below the rows worth a second thread: acts run on one either way
  const fusedOrNot = paths().map((p) => p.fused);
  for (const { name: base, config } of variants().filter((v) => v.acts !== false)) for (const fused of fusedOrNot) {
    const name = `${base.replace(/ (SAC )?update/, " act")}, batch 1${fused === false ? " [tfjs path]" : ""}`;
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
    out.push({ name, msPerAct: median(times) });
    await tf.nextFrame();
  }
  return out;
}
