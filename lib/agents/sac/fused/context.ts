/**
 * What every part of the fused SAC update shares: the addon's kernels, the wasm heap (views and offsets), and
 * the queue of forward passes waiting for the next native forward call.
 */
import { tf } from "../../../backend/tf";
import { HeapMlp, runMlpPasses } from "../../../backend/heap-mlp";
import type { NativeAddon } from "../../../backend/native";
import { activeAddon } from "../../../backend/wasm-kernels";
import { asWasmBackend, heapOf, offsetOf, type WasmBackend } from "../../../backend/wasm-heap";
import { IapoError } from "../../../core/errors";
import type { NormalPairsKernel } from "../../../core/rng";

/** The native kernels and the wasm heap they work on, with forward passes queued to share native calls. */
export class FusedContext {
  /** The addon; loadNative has checked that it was built from these sources, so every kernel is there. */
  readonly native: NativeAddon;
  readonly backend: WasmBackend;
  /** J's standard normals, as Rng.fillNormal draws them, in C++ (~1.7x faster on one thread, ~3x on two). */
  readonly normalPairs: NormalPairsKernel;
  /**
   * Forward passes that the next forward call runs with its own (runForward); their inputs are already in place.
   * Passes of the first Q-network queue at the front of the call, the second's at the back, others between.
   */
  private front: Float64Array[] = [];
  private middle: Float64Array[] = [];
  private back: Float64Array[] = [];

  constructor() {
    const addon = activeAddon();
    if (!addon) throw new IapoError("the fused SAC update needs the native addon");
    this.native = addon;
    this.normalPairs = (state, out, start, pairs) => addon.normalPairs(state, out, start, pairs);
    this.backend = asWasmBackend(tf.backend());
  }

  /** The heap as the native functions take it (fetch it again after anything that may allocate). */
  heap(): ArrayBuffer {
    return heapOf(this.backend);
  }

  /** A float32 view of the heap at a byte offset. */
  view(offset: number, count: number): Float32Array {
    return new Float32Array(heapOf(this.backend), offset, count);
  }

  /** Byte offset of a tensor's storage. */
  offset(t: tf.TensorInfo): number {
    return offsetOf(this.backend, t);
  }

  /** A HeapMlp on these kernels and this heap. */
  heapMlp(layers: ConstructorParameters<typeof HeapMlp>[2]): HeapMlp {
    return new HeapMlp(this.native, this.backend, layers);
  }

  /** Runs passes in one native call, forward or backward (see runMlpPasses). */
  runPasses(backward: boolean, passes: Float64Array[]): void {
    runMlpPasses(this.native, this.backend, backward, passes);
  }

  /** Drops queued passes (left over from an update that threw). */
  clearQueue(): void {
    this.front = [];
    this.middle = [];
    this.back = [];
  }

  /** Queues the two Q-networks' passes (q[0]'s, q[1]'s) for the next forward call. */
  enqueue([first, second]: [Float64Array, Float64Array]): void {
    this.front.push(first);
    this.back.push(second);
  }

  /** Queues a pass of another network (the policy's) for the next forward call, between the Q-networks'. */
  enqueueMiddle(pass: Float64Array): void {
    this.middle.push(pass);
  }

  /**
   * Runs forward passes in one native call, with any queued: independent passes share one call's two threads,
   * and each call saved is one hand-off and one uneven finish less. The native call's caller thread takes tasks
   * from the front and its worker from the back, so the first Q-network's passes go first and the second's last
   * (in the order queued), as in the two-network calls that follow: each network's weights and activations stay
   * in one core's L2 from its forward pass to its backward.
   */
  runForward(passes: Float64Array[]): void {
    const all = [...this.front, ...this.middle, ...passes, ...this.back.reverse()];
    this.clearQueue();
    if (all.length > 0) this.runPasses(false, all);
  }
}
