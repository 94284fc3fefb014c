/**
 * The SAC update of agent.ts written out by hand on the tfjs wasm heap, for the native backend.
 *
 * Why: through tfjs, a direct update runs ~480 kernels (each with engine, tape and scope bookkeeping) and the
 * iterative one differentiates J inside the outer gradient tape, so every J evaluation is back-propagated twice.
 * Here each network pass is one native call (lib/backend/heap-mlp.ts; the two Q-networks' passes run at the
 * same time on two threads where the machine has two cores), the elementwise maths of
 * the tanh-Gaussian, J and the gated update runs as plain loops over [batch, |A|] arrays, gradients are the
 * closed forms below, and Adam, Polyak averaging and metrics read and write the heap in place.
 *
 * The maths is the tfjs path's, step for step (same noise draws in the same order, same clipping masks, same
 * abs/clip subgradients); values agree to float32 rounding (tests/agents/fused-update.test.ts).
 *
 * Gradients used (u = μ + σ ε, a = tanh u, z = (u − μ)/σ, log π = Σ_i −½z² − log σ − ½log 2π − 2(log 2 − u − softplus(−2u))):
 *   ∂ log π/∂u (μ, σ fixed) = −z/σ + 2a,  ∂ log π/∂μ (u fixed) = z/σ,  ∂ log π/∂log σ (u fixed) = z² − 1,
 *   ∂u/∂μ = 1, ∂u/∂log σ = σ ε,  ∂Q_pess/∂Q1,2 = ½ ∓ ½β·s with s = 1 if Q1 > Q2 else −1 (tf's abs gradient).
 * The iterative optimizer's inputs are detached, so its training gradient is, per iteration k ≥ 1, the
 * network's backward from −∇λ Σ_s J(s, λ_k)/(K·B): the same ∇λ J that feeds iteration k's input.
 */
import { tf } from "../../backend/tf";
import { activeAddon } from "../../backend/wasm-kernels";
import { HeapBlock, HeapMlp, blockSize, runMlpPasses, type GradOffsets, type HeapLayer, type MlpTrace } from "../../backend/heap-mlp";
import { NativeAdam, ownStorage, renewWasmId } from "../../backend/native-adam";
import { asWasmBackend, heapOf, offsetOf, type WasmBackend } from "../../backend/wasm-heap";
import type { NativeAddon } from "../../backend/native";
import { IapoError } from "../../core/errors";
import { mean } from "../../core/stats";
import type { NormalPairsKernel, Rng } from "../../core/rng";
import { MlpModel } from "../../nn/mlp-model";
import type { QNetwork } from "../../nn/q-network";
import { LOG_STD_MAX, LOG_STD_MIN } from "../../policy/params";
import type { PolicyOptimizer } from "../../policy/optimizer";
import type { IterativeAmortizedOptimizer } from "../../policy/iterative";
import type { ReplayBatch } from "../replay-buffer";
import type { SacConfig } from "./config";

const LN2 = Math.LN2;

let enabled = process.env.IAPO_FUSED_SAC !== "0";

/** Turns the fused update on or off for agents' next updates (side-by-side benchmarks, equivalence tests). */
export function setFusedSacUpdates(on: boolean): void {
  enabled = on;
}

export function fusedSacUpdatesEnabled(): boolean {
  return enabled;
}

/** What the fused update reads and writes of an agent. */
export interface FusedSacParts {
  config: SacConfig;
  observationSize: number;
  actionSize: number;
  targetEntropy: number;
  q1: QNetwork;
  q2: QNetwork;
  q1Target: QNetwork;
  q2Target: QNetwork;
  policy: PolicyOptimizer;
  logAlpha: tf.Variable;
  rng: Rng;
}

export interface FusedSacOptimizers {
  q: tf.Optimizer;
  policy: tf.Optimizer | null;
  alpha: tf.Optimizer;
}

/** λ as plain arrays, [batch, |A|] row-major. */
export interface Lambda {
  mean: Float32Array;
  logStd: Float32Array;
}

/** One estimate of J (Eq. 7) per state, with its parts, and optionally ∇λ Σ_s J. */
interface Evaluation {
  j: Float32Array;
  q: Float32Array;
  logProb: Float32Array;
  grad: Lambda | null;
}

/** Byte offsets of each Q-network's first-layer state part for the states being evaluated (statePart). */
interface StatePart {
  bases: [number, number];
  rows: number;
}

/** Where one iterative step keeps what its backward pass needs. */
interface StepRecord {
  trace: MlpTrace;
  previous: Lambda;
  /** Gated log σ before clipping [batch, |A|]. */
  preClip: Float32Array;
  /** The gates ω of μ and of log σ [batch, |A|], as the gated update used them. */
  gateMean: Float64Array;
  gateLogStd: Float64Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const clip = (x: number): number => Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, x));
const inRange = (x: number): boolean => x >= LOG_STD_MIN && x <= LOG_STD_MAX;

/** Why an agent cannot use the fused update, or null when it can. */
export function fusedSacUnsupported(parts: FusedSacParts, optimizers: FusedSacOptimizers): string | null {
  if (!enabled) return "disabled";
  const addon = activeAddon();
  if (!addon || tf.getBackend() !== "wasm") return "native wasm kernels not active";
  if (!hasFusedKernels(addon)) return STALE_ADDON;
  if (parts.policy.kind !== "direct" && parts.policy.kind !== "iterative") return `policy optimizer ${parts.policy.kind}`;
  if (!(parts.policy instanceof MlpModel)) return "the policy optimizer has no network the native passes can run";
  if (![optimizers.q, optimizers.alpha, optimizers.policy].every((o) => o === null || o instanceof NativeAdam)) return "optimizers are not the native Adam";
  return null;
}

/** The addon with every kernel the fused update calls. */
type FusedKernels = NativeAddon & Required<Pick<NativeAddon, "mlpPasses" | "tanhGaussianSample" | "tanhGaussianGrad" | "normalPairs">>;

const STALE_ADDON = "the native addon is older than its sources (rebuild: node native/build.js)";

/** Whether the addon has every kernel the fused update calls (one built from older sources may not). */
function hasFusedKernels(addon: NativeAddon): addon is FusedKernels {
  return HeapMlp.supported(addon) && (["tanhGaussianSample", "tanhGaussianGrad", "normalPairs"] as const).every((k) => typeof addon[k] === "function");
}

/** Heap regions for one batch size. */
interface Workspace {
  batch: number;
  block: HeapBlock;
  /** Q input rows for J, and the Q passes over them (for Q1, Q2): [N·B, |A|] actions (the states' part is StatePart's). */
  jInput: number;
  /** States [B, obs] and each Q-network's first-layer state part [B, width of layer 0] (StatePart). */
  states: number;
  bases: [number, number];
  jTraces: [MlpTrace, MlpTrace];
  /** d Q_pess / d Q1, Q2 per row [N·B], and d input of each Q (laid out as jInput). */
  dq: [number, number];
  dInput: [number, number];
  /** Q-update passes on [s, a], [B, obs + |A|]. */
  qTraces: [MlpTrace, MlpTrace];
  dqLoss: [number, number];
  /**
   * The policy network's passes and d output [B, out]: one, reused by every iterative step; a direct policy has
   * a second, its forward on the update's states (run early, beside the target's: see update).
   */
  pTraces: MlpTrace[];
  dOut: number;
  /** Host scratch of each J evaluation, reused (an N=10 update would otherwise allocate ~1 MB of them). */
  eps: Float32Array;
  sigma: Float64Array;
  logPi: Float64Array;
}

/** Forward passes waiting for the next native forward call: the first Q-network's, others', and the second's. */
interface Queue {
  front: Float64Array[];
  middle: Float64Array[];
  back: Float64Array[];
}

const emptyQueue = (): Queue => ({ front: [], middle: [], back: [] });

export class FusedSacUpdate {
  private readonly native: FusedKernels;
  /** J's standard normals, as Rng.fillNormal draws them, in C++ (~1.7x faster on one thread, ~3x on two). */
  private readonly normalPairs: NormalPairsKernel;
  private readonly backend: WasmBackend;
  private readonly q: [HeapMlp, HeapMlp];
  private readonly qTarget: [HeapMlp, HeapMlp];
  private readonly net: HeapMlp;
  private readonly iterative: IterativeAmortizedOptimizer | null;
  /** Gradient buffers, one per variable (kept tensors the Adam reads). */
  private readonly qGrads: tf.Tensor[];
  private readonly pGrads: tf.Tensor[];
  private readonly alphaGrad: tf.Tensor;
  /**
   * Heap regions per batch size: the training batch and the acting batch (1, or a few) both stay allocated, so
   * alternating act() and update() never reallocates.
   */
  private readonly workspaces = new Map<number, Workspace>();
  /**
   * Forward passes that the next forward call runs with its own (runForward); their inputs are already in place.
   * Passes of the first Q-network (q[0], qTarget[0]) queue at the front of the call, the second's at the back.
   */
  private queued: Queue = emptyQueue();

  constructor(private readonly parts: FusedSacParts) {
    const addon = activeAddon();
    if (!addon) throw new IapoError("the fused SAC update needs the native addon");
    if (!hasFusedKernels(addon)) throw new IapoError(STALE_ADDON);
    this.native = addon;
    this.normalPairs = (state, out, start, pairs) => addon.normalPairs(state, out, start, pairs);
    this.backend = asWasmBackend(tf.backend());
    if (!(parts.policy instanceof MlpModel)) throw new IapoError("the fused SAC update needs a policy network (MlpModel)");
    const heapMlp = (layers: HeapLayer[]): HeapMlp => new HeapMlp(addon, this.backend, layers);
    this.q = [heapMlp(parts.q1.heapLayers()), heapMlp(parts.q2.heapLayers())];
    this.qTarget = [heapMlp(parts.q1Target.heapLayers()), heapMlp(parts.q2Target.heapLayers())];
    this.net = heapMlp(parts.policy.heapLayers());
    this.iterative = parts.policy.kind === "iterative" ? (parts.policy as IterativeAmortizedOptimizer) : null;
    this.qGrads = [...parts.q1.params.variables(), ...parts.q2.params.variables()].map((v) => tf.keep(tf.zerosLike(v)));
    this.pGrads = (parts.policy.params?.variables() ?? []).map((v) => tf.keep(tf.zerosLike(v)));
    this.alphaGrad = tf.keep(tf.zerosLike(parts.logAlpha));
    this.workspace(1); // acting's batch of one, allocated with the rest so act() never allocates tensors
  }

  dispose(): void {
    tf.dispose([...this.qGrads, ...this.pGrads, this.alphaGrad]);
    for (const ws of this.workspaces.values()) ws.block.dispose();
    this.workspaces.clear();
  }

  private get samples(): number {
    return this.parts.config.samples;
  }

  private view(offset: number, count: number): Float32Array {
    return new Float32Array(heapOf(this.backend), offset, count);
  }

  private workspace(batch: number): Workspace {
    const kept = this.workspaces.get(batch);
    if (kept) return kept;
    // A caller alternating many batch sizes would otherwise hold one block per size: keep at most a few.
    if (this.workspaces.size >= 4) {
      for (const ws of this.workspaces.values()) ws.block.dispose();
      this.workspaces.clear();
    }
    const N = this.samples;
    const A = this.parts.actionSize;
    const width = this.parts.observationSize + A;
    const rows = N * batch;
    const counts: number[] = [rows * A];
    const qActs = this.q[0].activationFloats(rows);
    const pActs = this.net.activationFloats(batch);
    for (let i = 0; i < 2; i++) counts.push(...qActs);
    const baseWidth = this.q[0].activationFloats(1)[0];
    counts.push(batch * this.parts.observationSize, batch * baseWidth, batch * baseWidth);
    counts.push(rows, rows, rows * A, rows * A);
    counts.push(batch * width);
    for (let i = 0; i < 2; i++) counts.push(...this.q[0].activationFloats(batch));
    counts.push(batch, batch);
    const policyTraces = this.iterative ? 1 : 2;
    for (let i = 0; i < policyTraces; i++) counts.push(batch * this.net.inputSize, ...pActs);
    counts.push(batch * this.net.outputSize);
    const block = new HeapBlock(this.backend, blockSize(counts));
    const jInput = block.take(rows * A);
    const jTraces: [MlpTrace, MlpTrace] = [this.q[0].makeTrace(block, rows, jInput), this.q[1].makeTrace(block, rows, jInput)];
    const states = block.take(batch * this.parts.observationSize);
    const bases: [number, number] = [block.take(batch * baseWidth), block.take(batch * baseWidth)];
    const dq: [number, number] = [block.take(rows), block.take(rows)];
    const dInput: [number, number] = [block.take(rows * A), block.take(rows * A)];
    const qInput = block.take(batch * width);
    const qTraces: [MlpTrace, MlpTrace] = [this.q[0].makeTrace(block, batch, qInput), this.q[1].makeTrace(block, batch, qInput)];
    const dqLoss: [number, number] = [block.take(batch), block.take(batch)];
    const pTraces = Array.from({ length: policyTraces }, () => this.net.makeTrace(block, batch, block.take(batch * this.net.inputSize)));
    const dOut = block.take(batch * this.net.outputSize);
    const host = { eps: new Float32Array(rows * A), sigma: new Float64Array(batch * A), logPi: new Float64Array(rows) };
    const ws: Workspace = { batch, block, jInput, states, bases, jTraces, dq, dInput, qTraces, dqLoss, pTraces, dOut, ...host };
    this.workspaces.set(batch, ws);
    return ws;
  }

  /** Everything updated in place gets storage of its own and Adam slots now, so no tensor is allocated mid-update. */
  private prepare(optimizers: FusedSacOptimizers): void {
    const p = this.parts;
    const qVars = [...p.q1.params.variables(), ...p.q2.params.variables()];
    const all = [...qVars, ...p.q1Target.params.variables(), ...p.q2Target.params.variables(), ...(p.policy.params?.variables() ?? []), p.logAlpha];
    for (const v of all) ownStorage(this.backend, v);
    (optimizers.q as NativeAdam).ensureSlots(qVars);
    if (optimizers.policy && p.policy.params) (optimizers.policy as NativeAdam).ensureSlots(p.policy.params.variables());
    (optimizers.alpha as NativeAdam).ensureSlots([p.logAlpha]);
  }

  /**
   * One update, as SacAgent.update: Q target, Q step, policy step, temperature step, Polyak. Returns the same
   * metrics in the same order. `checkFinite` throws for a non-finite loss (the agent's error messages).
   */
  update(batch: ReplayBatch, optimizers: FusedSacOptimizers, checkFinite: (what: string, value: number) => void): Record<string, number> {
    const p = this.parts;
    const c = p.config;
    const B = batch.size;
    const O = p.observationSize;
    const A = p.actionSize;
    this.prepare(optimizers);
    const ws = this.workspace(B);
    this.queued = emptyQueue(); // nothing left over from an update that threw
    const heapAtStart = heapOf(this.backend);
    const metrics: Record<string, number> = {};
    const alpha = Math.fround(Math.exp(this.view(offsetOf(this.backend, p.logAlpha), 1)[0]));
    const policyQ = c.useTargetQForPolicy ? this.qTarget : this.q;

    // The Q-networks' forward on (s, a) needs nothing of the target: queued, it runs in the target's first call.
    const width = O + A;
    const qIn = this.view(ws.qTraces[0].input, B * width);
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < O; i++) qIn[s * width + i] = batch.observations[s * O + i];
      for (let i = 0; i < A; i++) qIn[s * width + O + i] = batch.actions[s * A + i];
    }
    this.enqueue([this.q[0].forwardPass(ws.qTraces[0]), this.q[1].forwardPass(ws.qTraces[1])]);
    // So does a direct policy's forward on s for its own step: nothing before that step changes its weights, and
    // beside the forward on s' its weights are packed once (its own call cost one hand-off and one uneven finish
    // more: with both, direct updates 0.14 ms faster, median of 40 paired in-process blocks, 24 faster).
    const policyOnStates = this.iterative ? null : ws.pTraces[1];
    if (policyOnStates) {
      this.view(policyOnStates.input, batch.observations.length).set(batch.observations);
      this.queued.middle.push(this.net.forwardPass(policyOnStates));
    }

    // Soft Q target y = r + γ(1 − d)·J_target(s', λ') (Eq. 12, 14), with the pre-update weights. A direct
    // policy's forward does not touch the state parts, so the target networks' are queued to run with it.
    const targetPart = this.iterative ? null : this.statePart(batch.nextObservations, B, this.qTarget, true);
    const next = this.chooseLambda(batch.nextObservations, B, policyQ, c.betaTrain, alpha, null).lambda;
    const v = this.evaluate(B, next, this.qTarget, c.betaTrain, alpha, false, targetPart ?? this.statePart(batch.nextObservations, B, this.qTarget)).j;
    const y = new Float32Array(B);
    const gamma = Math.fround(c.gamma); // tf makes a float32 scalar of it
    for (let s = 0; s < B; s++) y[s] = batch.rewards[s] + Math.fround(gamma * Math.fround((1 - batch.terminated[s]) * v[s]));

    // Q-networks: mean squared TD error each, summed; Adam.
    this.runForward([]); // the queued Q forward, if no call took it
    const losses = [0, 0];
    let q1Sum = 0;
    for (let i = 0; i < 2; i++) {
      const trace = ws.qTraces[i];
      const q = this.view(trace.outputs[trace.outputs.length - 1], B);
      const dq = this.view(ws.dqLoss[i], B);
      const invB = Math.fround(1 / B);
      for (let s = 0; s < B; s++) {
        const d = Math.fround(q[s] - y[s]);
        losses[i] += d * d;
        dq[s] = invB * Math.fround(2 * d); // tf's order: mean's 1/B times squaredDifference's 2(q − y)
        if (i === 0) q1Sum += q[s];
      }
      losses[i] /= B;
    }
    checkFinite("Q loss", Math.fround(losses[0]) + Math.fround(losses[1]));
    const qVariables = [...p.q1.params.variables(), ...p.q2.params.variables()];
    runMlpPasses(
      this.native, this.backend, true,
      [0, 1].map((i) => this.q[i].backwardPass(ws.qTraces[i], { dOut: ws.dqLoss[i], grads: this.gradOffsets(this.q[i], qVariables, this.qGrads), dInput: -1, accumulate: false })),
    );
    metrics["train/q1_loss"] = Math.fround(losses[0]);
    metrics["train/q2_loss"] = Math.fround(losses[1]);
    metrics["train/q1_value"] = Math.fround(q1Sum / B);
    metrics["train/q_target"] = Math.fround(mean(y));
    optimizers.q.applyGradients(Object.fromEntries(qVariables.map((v, i) => [v.name, this.qGrads[i]])));
    metrics["train/grad_norm_q"] = this.gradNorm(optimizers.q, this.qGrads);

    // Policy optimizer on the updated Q-networks.
    const policyGrads = this.pGrads.length ? this.gradOffsets(this.net, p.policy.params?.variables() ?? [], this.pGrads) : null;
    const run = this.chooseLambda(batch.observations, B, policyQ, c.betaTrain, alpha, policyGrads, policyOnStates);
    checkFinite("policy loss", run.loss);
    metrics["train/policy_loss"] = run.loss;
    if (optimizers.policy && p.policy.params) {
      optimizers.policy.applyGradients(Object.fromEntries(p.policy.params.variables().map((v, i) => [v.name, this.pGrads[i]])));
      metrics["train/grad_norm_policy"] = this.gradNorm(optimizers.policy, this.pGrads);
    } else {
      metrics["train/grad_norm_policy"] = this.globalNorm(this.pGrads);
    }
    const final = run.evaluations[run.evaluations.length - 1];
    const meanLogProb = Math.fround(mean(final.logProb));
    metrics["train/entropy"] = -meanLogProb;
    metrics["train/kl_prior"] = Math.fround(meanLogProb + A * LN2);
    // (loops: a typed array's map with a callback costs ~0.1 ms here; each term rounded to float32 as map's was)
    let absSum = 0;
    let scaleSum = 0;
    for (let p = 0; p < run.lambda.mean.length; p++) {
      absSum += Math.abs(run.lambda.mean[p]);
      scaleSum += Math.fround(Math.exp(run.lambda.logStd[p]));
    }
    metrics["train/policy_mean_abs"] = Math.fround(absSum / run.lambda.mean.length);
    metrics["train/policy_scale"] = Math.fround(scaleSum / run.lambda.logStd.length);
    metrics["train/objective"] = Math.fround(mean(final.j));
    for (let k = 1; k < run.evaluations.length; k++) {
      metrics[`train/j_improvement_iter${k}`] = Math.fround(Math.fround(mean(run.evaluations[k].j)) - Math.fround(mean(run.evaluations[k - 1].j)));
    }

    // Temperature: L(log α) = −log α (E log π + H_target); dL/dlog α = −(E log π + H_target).
    const logAlphaView = (): Float32Array => this.view(offsetOf(this.backend, p.logAlpha), 1);
    if (c.autoTemperature) {
      const logAlpha = logAlphaView()[0];
      const target = Math.fround(meanLogProb + p.targetEntropy);
      metrics["train/alpha_loss"] = Math.fround(-(logAlpha * target));
      this.view(offsetOf(this.backend, this.alphaGrad), 1)[0] = -target;
      optimizers.alpha.applyGradients({ [p.logAlpha.name]: this.alphaGrad });
    }
    metrics["train/alpha"] = Math.fround(Math.exp(logAlphaView()[0]));

    this.polyak();
    if (heapOf(this.backend) !== heapAtStart) throw new IapoError("the wasm heap grew during a fused SAC update (views would be stale)");
    return metrics;
  }

  /**
   * λ for acting (SacAgent.act): the optimizer's acting run from `states` [B, obs] on the online Q-networks with
   * β = betaCollect and the current α, drawing J's noise from the agent's Rng exactly as the tfjs path does.
   * Nothing is written to the weights, so no storage or optimizer preparation is needed.
   */
  actingLambda(states: Float32Array, B: number): Lambda {
    const ws = this.workspace(B); // first, so the heap cannot grow under the views below
    this.queued = emptyQueue(); // nothing left over from an update that threw
    const heapAtStart = heapOf(this.backend);
    const alpha = Math.fround(Math.exp(this.view(offsetOf(this.backend, this.parts.logAlpha), 1)[0]));
    const { lambda } = this.chooseLambda(states, ws.batch, this.q, this.parts.config.betaCollect, alpha, null);
    if (heapOf(this.backend) !== heapAtStart) throw new IapoError("the wasm heap grew while choosing an action (views would be stale)");
    return lambda;
  }

  /**
   * Where each layer's gradients go: the buffer of each of its variables, found among `variables` (whose
   * gradient buffers `grads` hold, in the same order).
   */
  private gradOffsets(net: HeapMlp, variables: tf.Variable[], grads: tf.Tensor[]): GradOffsets[] {
    const at = (v: tf.Variable): number => {
      const i = variables.indexOf(v);
      if (i < 0) throw new IapoError(`fused SAC update: no gradient buffer for ${v.name}`);
      return offsetOf(this.backend, grads[i]);
    };
    return net.layers.map((l) => ({
      w: at(l.w),
      b: at(l.b),
      ...(l.norm ? { gain: at(l.norm.gain), normBias: at(l.norm.bias) } : {}),
      ...(l.gate ? { gateW: at(l.gate.w), gateB: at(l.gate.b) } : {}),
    }));
  }

  /** The global norm of `grads`, which `optimizer` (a NativeAdam) has just applied: from its step's Σ g² where it has it. */
  private gradNorm(optimizer: tf.Optimizer, grads: tf.Tensor[]): number {
    const sumSquares = (optimizer as NativeAdam).gradSumSquares;
    return Number.isNaN(sumSquares) ? this.globalNorm(grads) : Math.fround(Math.sqrt(sumSquares));
  }

  private globalNorm(grads: tf.Tensor[]): number {
    const table = new Uint32Array(2 * grads.length);
    grads.forEach((g, i) => table.set([offsetOf(this.backend, g), g.size], 2 * i));
    return Math.fround(Math.sqrt(this.native.sumSquares(heapOf(this.backend), table, grads.length)));
  }

  /** ψ' ← (1 − τ) ψ' + τ ψ for both target networks, in place, in tf's float32 operation order. */
  private polyak(): void {
    const tau = this.parts.config.tau;
    const keep = Math.fround(1 - tau);
    const take = Math.fround(tau);
    const pairs: [QNetwork, QNetwork][] = [[this.parts.q1Target, this.parts.q1], [this.parts.q2Target, this.parts.q2]];
    const rows: number[] = [];
    const targets: tf.Variable[] = [];
    for (const [target, online] of pairs) {
      const src = online.params.variables();
      target.params.variables().forEach((t, i) => {
        rows.push(offsetOf(this.backend, t), offsetOf(this.backend, src[i]), t.size);
        targets.push(t);
      });
    }
    this.native.polyak(heapOf(this.backend), Uint32Array.from(rows), targets.length, keep, take);
    for (const t of targets) renewWasmId(this.backend, t);
  }

  /**
   * The policy optimizer's run from `states` [B, obs] (host array): direct, λ = f(s); iterative, K gated steps
   * with ∇λ J as input. With `grads` (training), also J at every λ after the start, the loss and its gradient
   * into `grads` (d loss / d φ). A direct policy's forward on `states` may have run already, into `ran`.
   */
  private chooseLambda(
    states: Float32Array, B: number, q: [HeapMlp, HeapMlp], beta: number, alpha: number, grads: GradOffsets[] | null, ran: MlpTrace | null = null,
  ): { lambda: Lambda; evaluations: Evaluation[]; loss: number } {
    const ws = this.workspace(B);
    const A = this.parts.actionSize;
    if (!this.iterative) {
      const trace = ran ?? ws.pTraces[0];
      // with grads, J follows on the same states: their parts of the Q-networks' first layers run beside the policy
      const part = grads ? this.statePart(states, B, q, true) : null;
      if (!ran) this.view(trace.input, states.length).set(states);
      this.runForward(ran ? [] : [this.net.forwardPass(trace)]);
      const out = this.view(trace.outputs[trace.outputs.length - 1], B * 2 * A);
      const raw = new Float32Array(B * A);
      const lambda: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
      for (let s = 0; s < B; s++) {
        for (let i = 0; i < A; i++) {
          lambda.mean[s * A + i] = out[s * 2 * A + i];
          raw[s * A + i] = out[s * 2 * A + A + i];
          lambda.logStd[s * A + i] = clip(raw[s * A + i]);
        }
      }
      if (!grads) return { lambda, evaluations: [], loss: 0 };
      const e = this.evaluate(B, lambda, q, beta, alpha, true, part as StatePart);
      const g = e.grad as Lambda;
      const dOut = this.view(ws.dOut, B * 2 * A);
      const scale = -1 / B;
      for (let s = 0; s < B; s++) {
        for (let i = 0; i < A; i++) {
          dOut[s * 2 * A + i] = g.mean[s * A + i] * scale;
          dOut[s * 2 * A + A + i] = inRange(raw[s * A + i]) ? g.logStd[s * A + i] * scale : 0;
        }
      }
      this.net.backward(trace, { dOut: ws.dOut, grads, dInput: -1, accumulate: false });
      return { lambda, evaluations: [e], loss: -Math.fround(mean(e.j)) };
    }
    const cfg = this.iterative.config;
    const K = grads ? cfg.trainIterations : cfg.actIterations;
    let lambda: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A).fill(Math.log(cfg.initialStd)) };
    const evaluations: Evaluation[] = [];
    let record: StepRecord | null = null;
    if (grads) for (const g of this.pGrads) this.view(offsetOf(this.backend, g), g.size).fill(0);
    const scale = -1 / (K * B);
    // Every J evaluation of this run is on the same states and Q-networks: their first-layer part, once.
    const part = this.statePart(states, B, q);
    // Step k's backward runs right after J(λ_{k+1}) gives its upstream gradient, so one trace serves every step.
    for (let k = 0; k <= K; k++) {
      if (k === K && !grads) break; // acting-style run: no J at the final λ (the tf path's evaluateFinal: false)
      const e = this.evaluate(B, lambda, q, beta, alpha, true, part);
      if (grads) {
        evaluations.push(e);
        if (record) this.stepBackward(record, e.grad as Lambda, scale, grads);
      }
      if (k === K) break;
      record = this.stepForward(states, B, lambda, e.grad as Lambda, ws.pTraces[0]);
      lambda = this.gated(record, B);
    }
    if (!grads) return { lambda, evaluations, loss: 0 };
    let loss = 0;
    for (let k = 1; k <= K; k++) loss += Math.fround(mean(evaluations[k].j));
    return { lambda, evaluations: evaluations.slice(), loss: -Math.fround(Math.fround(loss) / K) };
  }

  /**
   * Each Q-network's first layer on the states alone, s·W_s + b ([B, width] per network), so J evaluations on
   * N·B actions for these states multiply only the |A| action columns (FirstLayerBase). Valid until the next
   * call or a change of the Q weights. With `queue`, the passes wait for the next forward call (runForward).
   */
  private statePart(states: Float32Array, B: number, q: [HeapMlp, HeapMlp], queue = false): StatePart {
    const ws = this.workspace(B);
    this.view(ws.states, B * this.parts.observationSize).set(states);
    const passes = [0, 1].map((i) => q[i].firstLayerBasePass(ws.states, B, this.parts.observationSize, ws.bases[i]));
    if (queue) this.enqueue(passes as [Float64Array, Float64Array]);
    else this.runForward(passes);
    return { bases: ws.bases, rows: B };
  }

  /** Queues the two Q-networks' passes (q[0]'s, q[1]'s) for the next forward call. */
  private enqueue([first, second]: [Float64Array, Float64Array]): void {
    this.queued.front.push(first);
    this.queued.back.push(second);
  }

  /**
   * Runs forward passes in one native call, with any queued: independent passes share one call's two threads,
   * and each call saved is one hand-off and one uneven finish less. The native call's caller thread takes tasks
   * from the front and its worker from the back, so the first Q-network's passes go first and the second's last
   * (in the order queued), as in the two-network calls that follow: each network's weights and activations stay
   * in one core's L2 from its forward pass to its backward.
   */
  private runForward(passes: Float64Array[]): void {
    const { front, middle, back } = this.queued;
    const all = [...front, ...middle, ...passes, ...back.reverse()];
    this.queued = emptyQueue();
    if (all.length > 0) runMlpPasses(this.native, this.backend, false, all);
  }

  /** The iterative network's input for λ and ∇λ J, then its forward pass into `trace`. */
  private stepForward(states: Float32Array, B: number, lambda: Lambda, grad: Lambda, trace: MlpTrace): StepRecord {
    const O = this.parts.observationSize;
    const A = this.parts.actionSize;
    const scaled = (this.iterative as IterativeAmortizedOptimizer).config.inputNormalization === "layer+scale";
    const inSize = this.net.inputSize;
    const x = this.view(trace.input, B * inSize);
    const parts = [lambda.mean, lambda.logStd, grad.mean, grad.logStd];
    for (let s = 0; s < B; s++) {
      let at = s * inSize;
      at = normalizeRow(states, s * O, O, x, at, scaled);
      for (let k = 0; k < 4; k++) at = normalizeRow(parts[k], s * A, A, x, at, scaled);
    }
    this.runForward([this.net.forwardPass(trace)]);
    return { trace, previous: lambda, preClip: new Float32Array(B * A), gateMean: new Float64Array(B * A), gateLogStd: new Float64Array(B * A) };
  }

  /** Eq. 11 on the recorded pass's output: λ' = ω λ + (1 − ω) δ, log σ clipped. Fills record.preClip and the gates. */
  private gated(record: StepRecord, B: number): Lambda {
    const A = this.parts.actionSize;
    const out = this.view(record.trace.outputs[record.trace.outputs.length - 1], B * 4 * A);
    const next: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        const p = s * A + i;
        const o = s * 4 * A + i;
        const gm = (record.gateMean[p] = sigmoid(out[o + 2 * A]));
        const gs = (record.gateLogStd[p] = sigmoid(out[o + 3 * A]));
        next.mean[p] = gm * record.previous.mean[p] + (1 - gm) * out[o];
        record.preClip[p] = gs * record.previous.logStd[p] + (1 - gs) * out[o + A];
        next.logStd[p] = clip(record.preClip[p]);
      }
    }
    return next;
  }

  /** Adds d loss/d φ of one step: upstream scale·∇λ' J through the clip, the gates and the network. */
  private stepBackward(record: StepRecord, gradNext: Lambda, scale: number, grads: GradOffsets[]): void {
    const A = this.parts.actionSize;
    const B = record.trace.rows;
    const out = this.view(record.trace.outputs[record.trace.outputs.length - 1], B * 4 * A);
    const ws = this.workspace(B);
    const dOut = this.view(ws.dOut, B * 4 * A);
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        const p = s * A + i;
        const o = s * 4 * A + i;
        const gm = record.gateMean[p];
        const gs = record.gateLogStd[p];
        const dm = gradNext.mean[p] * scale;
        const dl = inRange(record.preClip[p]) ? gradNext.logStd[p] * scale : 0;
        dOut[o] = (1 - gm) * dm;
        dOut[o + A] = (1 - gs) * dl;
        dOut[o + 2 * A] = (record.previous.mean[p] - out[o]) * dm * gm * (1 - gm);
        dOut[o + 3 * A] = (record.previous.logStd[p] - out[o + A]) * dl * gs * (1 - gs);
      }
    }
    this.net.backward(record.trace, { dOut: ws.dOut, grads, dInput: -1, accumulate: true });
  }

  /**
   * J(s, λ) per state with N new samples (Eq. 7, 12), and with `wantGrad` ∇λ Σ_s J (back-propagated through
   * both Q-networks to the actions, then through tanh and the reparameterisation).
   */
  private evaluate(B: number, lambda: Lambda, q: [HeapMlp, HeapMlp], beta: number, alpha: number, wantGrad: boolean, part: StatePart): Evaluation {
    const ws = this.workspace(B);
    const N = this.samples;
    const O = this.parts.observationSize;
    const A = this.parts.actionSize;
    const rows = N * B;
    // The Q input rows are the actions alone: the states' part of the first layer is in `part`.
    const eps = this.parts.rng.fillStandardNormal(ws.eps, this.normalPairs);
    const heap = heapOf(this.backend);
    const sigma = ws.sigma;
    const logPi = ws.logPi;
    this.native.tanhGaussianSample(heap, ws.jInput, rows, B, A, lambda.mean, lambda.logStd, eps, sigma, logPi);
    const bases = (i: number) => ({ offset: part.bases[i], rows: part.rows, split: O });
    this.runForward([0, 1].map((i) => q[i].forwardPass(ws.jTraces[i], rows, bases(i))));
    const q1 = this.view(ws.jTraces[0].outputs[ws.jTraces[0].outputs.length - 1], rows);
    const q2 = this.view(ws.jTraces[1].outputs[ws.jTraces[1].outputs.length - 1], rows);
    const qMean = new Float32Array(B);
    const logProb = new Float32Array(B);
    const j = new Float32Array(B);
    for (let s = 0; s < B; s++) {
      let qs = 0;
      let kl = 0;
      for (let n = 0; n < N; n++) {
        const r = n * B + s;
        qs += 0.5 * (q1[r] + q2[r]) - 0.5 * beta * Math.abs(q1[r] - q2[r]);
        kl += logPi[r] + A * LN2;
      }
      qMean[s] = qs / N;
      const klMean = Math.fround(kl / N);
      j[s] = qMean[s] - alpha * klMean;
      logProb[s] = klMean - A * LN2;
    }
    if (!wantGrad) return { j, q: qMean, logProb, grad: null };

    const dq1 = this.view(ws.dq[0], rows);
    const dq2 = this.view(ws.dq[1], rows);
    for (let r = 0; r < rows; r++) {
      const side = q1[r] > q2[r] ? 1 : -1; // tf's |x|' is 1 for x > 0, else −1
      dq1[r] = (0.5 - 0.5 * beta * side) / N;
      dq2[r] = (0.5 + 0.5 * beta * side) / N;
    }
    runMlpPasses(
      this.native, this.backend, true,
      [0, 1].map((i) => q[i].backwardPass(ws.jTraces[i], { dOut: ws.dq[i], grads: null, dInput: ws.dInput[i], accumulate: false, rows, base: bases(i) })),
    );
    const grad: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    this.native.tanhGaussianGrad(heap, ws.jInput, ws.dInput[0], ws.dInput[1], rows, B, A, eps, sigma, -alpha / N, grad.mean, grad.logStd);
    return { j, q: qMean, logProb, grad };
  }
}

/**
 * Per-example standardisation of x[from .. from+len) into out[at ..], as normalizeInput (input-normalization.ts):
 * (x − mean)/(std + 1e-5), std = sqrt(var + 1e-10); with `scaled`, then sign(mean)·log1p|mean| and log(std + 1e-8).
 * @returns the next free index of out
 */
function normalizeRow(x: ArrayLike<number>, from: number, len: number, out: Float32Array, at: number, scaled: boolean): number {
  let m = 0;
  for (let i = 0; i < len; i++) m += x[from + i];
  m = Math.fround(m / len);
  let v = 0;
  for (let i = 0; i < len; i++) {
    const d = x[from + i] - m;
    v += d * d;
  }
  const std = Math.sqrt(Math.fround(v / len) + 1e-10);
  for (let i = 0; i < len; i++) out[at + i] = (x[from + i] - m) / (std + 1e-5);
  if (!scaled) return at + len;
  out[at + len] = Math.sign(m) * Math.log1p(Math.abs(m));
  out[at + len + 1] = Math.log(std + 1e-8);
  return at + len + 2;
}
