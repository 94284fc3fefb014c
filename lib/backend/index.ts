export { tf } from "./tf";
export { initBackend, backendInfo, BACKEND_NAMES, BACKEND_ENV_VAR, type BackendInfo, type BackendName } from "./select";
export { dense, activate, type Activation } from "./ops";
export { createAdam, type AdamOptions } from "./adam";
