/**
 * Kernel overrides for the tfjs wasm backend. Stock tfjs-backend-wasm runs a matmul through XNNPACK only when
 * neither operand is transposed; transposed ones (two of the three matmuls of every dense backward pass) fall
 * to a scalar loop ~15x slower, and its _FusedMatMul adds the bias at wrong indices when transposed.
 *
 * Three modes, switchable at run time (for side-by-side benchmarks):
 * - "native": BatchMatMul and _FusedMatMul call OpenBLAS sgemm in the addon, reading and writing the wasm heap
 *   in place, with bias and activation fused; plus IapoDenseGrad, the whole dense backward pass in one kernel.
 * - "transpose": pure JS; transposed operands are transposed explicitly first, then the stock kernel runs.
 * - "stock": tfjs-backend-wasm's own kernels.
 * Overrides must be installed after tf.setBackend("wasm") resolved (the stock kernels' setup runs then).
 */
import { tf } from "./tf";
import { ConfigError, IapoError } from "../core/errors";
import { ACTIVATION_CODES, BIAS_NONE, BIAS_PER_COLUMN, BIAS_SCALAR, type NativeAddon } from "./native";
import { asWasmBackend, heapOf, offsetOf, type WasmBackend } from "./wasm-heap";

export type WasmKernelMode = "native" | "transpose" | "stock";

/** Name of the fused dense backward kernel (registered on wasm in native mode only). */
export const DENSE_GRAD_KERNEL = "IapoDenseGrad";

const MATMUL_KERNELS = ["BatchMatMul", "_FusedMatMul"] as const;
type MatMulKernel = (typeof MATMUL_KERNELS)[number];

const stockConfigs = new Map<MatMulKernel, tf.KernelConfig>();
let mode: WasmKernelMode = "stock";
let addon: NativeAddon | null = null;

/** Which wasm matmul kernels are installed now. */
export function wasmKernelMode(): WasmKernelMode {
  return mode;
}

/** The addon behind the "native" mode (null in the other modes). */
export function activeAddon(): NativeAddon | null {
  return mode === "native" ? addon : null;
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}
interface MatMulInputs {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  bias?: tf.TensorInfo;
  preluActivationWeights?: tf.TensorInfo;
}
type KernelArgs = { inputs: MatMulInputs; backend: WasmBackend; attrs: MatMulAttrs };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

function stockKernel(name: MatMulKernel): Kernel {
  const config = stockConfigs.get(name);
  if (!config) throw new IapoError(`stock wasm kernel ${name} was not recorded`);
  return config.kernelFunc as unknown as Kernel;
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Swaps the last two axes of x with the wasm Transpose kernel (a new tensor the caller disposes). */
function transposeLast2(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!transpose) throw new IapoError("wasm Transpose kernel missing");
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** Runs a stock wasm kernel by name. */
function runWasm(name: string, inputs: Record<string, tf.TensorInfo>, backend: WasmBackend, attrs: object = {}): tf.TensorInfo {
  const kernel = tf.getKernel(name, "wasm");
  if (!kernel) throw new IapoError(`wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** Activation kernels by _FusedMatMul activation name. */
const ACTIVATION_KERNELS: Record<string, string> = {
  relu: "Relu", relu6: "Relu6", elu: "Elu", leakyrelu: "LeakyRelu", sigmoid: "Sigmoid", tanh: "Tanh", prelu: "Prelu",
};

/**
 * _FusedMatMul as separate stock kernels (matmul, add, activation) for the cases the stock fused kernel gets
 * wrong or lacks: a bias that is not one value per output column (it broadcasts it at wrong indices), tanh.
 */
function decomposedFused(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const activation = attrs.activation ?? "linear";
  const temps: tf.TensorInfo[] = [];
  try {
    let out = transposingKernel("BatchMatMul")({ inputs: { a: inputs.a, b: inputs.b }, backend, attrs });
    if (inputs.bias) {
      temps.push(out);
      out = runWasm("Add", { a: out, b: inputs.bias }, backend);
    }
    if (activation !== "linear") {
      const kernel = ACTIVATION_KERNELS[activation];
      if (!kernel) throw new ConfigError(`_FusedMatMul: unknown activation "${activation}"`);
      temps.push(out);
      out = activation === "prelu"
        ? runWasm(kernel, { x: out, alpha: inputs.preluActivationWeights as tf.TensorInfo }, backend)
        : runWasm(kernel, { x: out }, backend, { alpha: attrs.leakyreluAlpha ?? 0.2 });
    }
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Whether the stock wasm _FusedMatMul computes these inputs correctly (once operands are untransposed). */
function stockFusedHandles(args: KernelArgs): boolean {
  const { inputs, attrs } = args;
  const b = inputs.b;
  const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const biasOk = !inputs.bias || (inputs.bias.shape.length === 1 && inputs.bias.shape[0] === n);
  return biasOk && (attrs.activation ?? "linear") !== "tanh";
}

/** Pure-JS fix: materialise transposed operands, then run the stock kernel untransposed (fast XNNPACK path). */
function transposingKernel(name: MatMulKernel): Kernel {
  return (args) => {
    const { inputs, backend, attrs } = args;
    if (name === "_FusedMatMul" && !stockFusedHandles(args)) return decomposedFused(args);
    if (!attrs.transposeA && !attrs.transposeB) return stockKernel(name)(args);
    const temps: tf.TensorInfo[] = [];
    const a = attrs.transposeA ? transposeLast2(inputs.a, backend) : inputs.a;
    const b = attrs.transposeB ? transposeLast2(inputs.b, backend) : inputs.b;
    if (a !== inputs.a) temps.push(a);
    if (b !== inputs.b) temps.push(b);
    try {
      return stockKernel(name)({ inputs: { ...inputs, a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/** How a bias of this shape broadcasts onto an [..., m, n] output, or null where the addon cannot do it. */
function biasMode(bias: tf.TensorInfo | undefined, n: number): number | null {
  if (!bias) return BIAS_NONE;
  const count = size(bias.shape);
  if (count === 1) return BIAS_SCALAR;
  const last = bias.shape[bias.shape.length - 1];
  if (count === n && last === n) return BIAS_PER_COLUMN;
  return null;
}

/** Batch sizes of the two operands and the output's batch shape, or null for broadcasts other than 1-vs-N. */
function batchLayout(a: readonly number[], b: readonly number[]): { batchA: number; batchB: number; shape: number[] } | null {
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.slice(0, -2), b.slice(0, -2));
  const batch = size(shape);
  const batchA = size(a.slice(0, -2));
  const batchB = size(b.slice(0, -2));
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null;
  return { batchA, batchB, shape };
}

/** OpenBLAS matmul with fused bias and activation, in place on the wasm heap. */
function nativeKernel(name: MatMulKernel, native: NativeAddon): Kernel {
  const fallback = transposingKernel(name);
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias, preluActivationWeights } = inputs;
    const activation = attrs.activation ?? "linear";
    const code = (ACTIVATION_CODES as Record<string, number | undefined>)[activation];
    if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) {
      return fallback(args);
    }
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb) {
      throw new IapoError(`${name}: inner dimensions differ: a ${JSON.stringify(a.shape)} b ${JSON.stringify(b.shape)}`);
    }
    const layout = batchLayout(a.shape, b.shape);
    const mode = biasMode(bias, n);
    // prelu, unusual broadcasts and non-float32 operands keep the (transpose-fixed) stock kernel.
    if (layout === null || mode === null || code === undefined || preluActivationWeights) return fallback(args);
    const batch = Math.max(layout.batchA, layout.batchB);
    const out = backend.makeOutput([...layout.shape, m, n], "float32");
    native.gemm(
      heapOf(backend), batch, m, n, k, attrs.transposeA, attrs.transposeB,
      offsetOf(backend, a), layout.batchA === 1 ? 0 : 4 * m * k,
      offsetOf(backend, b), layout.batchB === 1 ? 0 : 4 * k * n,
      offsetOf(backend, out), bias ? offsetOf(backend, bias) : 0, mode, code, attrs.leakyreluAlpha ?? 0.2,
    );
    return out;
  };
}

interface DenseGradAttrs {
  activation: string;
  alpha: number;
  /** Whether the layer has a bias (then the kernel also returns its gradient). */
  hasBias: boolean;
}

/**
 * The backward pass of y = act(x·w + b) in one kernel: inputs x [m,k], w [k,n], y [m,n], dy [m,n];
 * outputs dx [m,k], dw [k,n] and, with a bias, db [n].
 */
function denseGradKernel(native: NativeAddon) {
  return (args: { inputs: Record<string, tf.TensorInfo>; backend: WasmBackend; attrs: DenseGradAttrs }): tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x, w, y, dy } = inputs;
    const code = (ACTIVATION_CODES as Record<string, number | undefined>)[attrs.activation];
    if (code === undefined) throw new ConfigError(`${DENSE_GRAD_KERNEL}: unknown activation "${attrs.activation}"`);
    const [m, k] = x.shape;
    const n = w.shape[1];
    const dx = backend.makeOutput([m, k], "float32");
    const dw = backend.makeOutput([k, n], "float32");
    const db = attrs.hasBias ? backend.makeOutput([n], "float32") : null;
    native.denseGrad(
      heapOf(backend), m, n, k, offsetOf(backend, x), offsetOf(backend, w), offsetOf(backend, y), offsetOf(backend, dy),
      offsetOf(backend, dx), offsetOf(backend, dw), db ? offsetOf(backend, db) : -1, code, attrs.alpha,
    );
    return db ? [dx, dw, db] : [dx, dw];
  };
}

function replaceKernel(name: string, kernelFunc: unknown, setupFunc?: tf.KernelConfig["setupFunc"]): void {
  if (tf.getKernel(name, "wasm")) tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: kernelFunc as tf.KernelFunc, setupFunc });
}

/**
 * Installs the matmul kernels of `next` on the (already active) wasm backend. "native" needs the addon.
 * Safe to call repeatedly; the stock kernels are remembered the first time.
 */
export function installWasmKernels(next: WasmKernelMode, native: NativeAddon | null = null): void {
  asWasmBackend(tf.findBackend("wasm") as tf.KernelBackend);
  for (const name of MATMUL_KERNELS) {
    if (!stockConfigs.has(name)) {
      const config = tf.getKernel(name, "wasm");
      if (!config) throw new IapoError(`wasm backend has no ${name} kernel to replace`);
      stockConfigs.set(name, config);
    }
  }
  if (next === "native" && !native) throw new ConfigError("native wasm kernels need the iapo addon");
  for (const name of MATMUL_KERNELS) {
    const stock = stockConfigs.get(name) as tf.KernelConfig;
    const func = next === "native" ? nativeKernel(name, native as NativeAddon) : next === "transpose" ? transposingKernel(name) : stock.kernelFunc;
    replaceKernel(name, func, stock.setupFunc);
  }
  if (next === "native") replaceKernel(DENSE_GRAD_KERNEL, denseGradKernel(native as NativeAddon));
  else if (tf.getKernel(DENSE_GRAD_KERNEL, "wasm")) tf.unregisterKernel(DENSE_GRAD_KERNEL, "wasm");
  mode = next;
  addon = next === "native" ? native : null;
}
