/**
 * The parts of @tensorflow/tfjs-backend-wasm's BackendWasm that native kernels need: every float32 tensor
 * lives in the wasm heap at `memoryOffset`, so a native function can read and write it in place.
 * These are internals of tfjs-backend-wasm 4.22 (backend_wasm.ts); `asWasmBackend` checks they are there.
 */
import { tf } from "./tf";
import { IapoError } from "../core/errors";

/** One tensor's storage record in BackendWasm.dataIdMap. */
export interface WasmTensorData {
  /** The id the C++ side knows the tensor by (XNNPACK caches packed weights under it). */
  id: number;
  /** Byte offset of the first element in the wasm heap. */
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  /** How many tensors share this storage (reshape, clone and tf.variable share instead of copying). */
  refCount: number;
}

export interface WasmBackend extends tf.KernelBackend {
  wasm: {
    HEAPU8: Uint8Array;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: tf.DataId): WasmTensorData | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** The backend as a BackendWasm, or an error naming what is missing (a tfjs version whose internals differ). */
export function asWasmBackend(backend: tf.KernelBackend): WasmBackend {
  const b = backend as Partial<WasmBackend>;
  if (!b.wasm?.HEAPU8 || !b.wasm.tfjs || !b.dataIdMap || typeof b.makeOutput !== "function") {
    throw new IapoError("the active backend is not tfjs-backend-wasm 4.x (no wasm heap / dataIdMap)");
  }
  return backend as WasmBackend;
}

/** The heap as the native functions take it. Fetch it after allocating outputs: growing the heap replaces it. */
export function heapOf(backend: WasmBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** Byte offset of a tensor's first element. */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new IapoError("tensor is not stored on the wasm backend (was it created on another backend?)");
  return data.memoryOffset;
}
