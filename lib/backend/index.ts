export { tf } from "./tf";
export {
  initBackend,
  useBackend,
  backendInfo,
  BACKEND_NAMES,
  AUTO_ORDER,
  BACKEND_ENV_VAR,
  type BackendInfo,
  type BackendName,
} from "./select";
export { dense, activate, LEAKY_RELU_ALPHA, type Activation } from "./ops";
export { createAdam, type AdamOptions } from "./adam";
export { loadNative, type NativeAddon, type NativeLoad } from "./native";
export { ThreadTuner, autoThreadTuner, DEFAULT_THREAD_TUNER_OPTIONS, type ThreadTunerOptions, type ThreadTunerStats } from "./thread-tuner";
export { wasmKernelMode, type WasmKernelMode } from "./wasm-kernels";
