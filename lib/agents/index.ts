export { ReplayBuffer, type ReplayBatch, type ReplayBufferSnapshot } from "./replay-buffer";
export * from "./sac";
export * from "./model-based";
