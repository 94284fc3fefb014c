/**
 * Experience replay (Lin, 1992; Mnih et al., 2013): a ring buffer of transitions in typed arrays, sampled
 * uniformly with a seeded `Rng`. Holds `terminated` (true end of the MDP) only; time-limit truncations are
 * stored as not terminated, so the target still bootstraps from the next state.
 */
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";

/** A sampled minibatch, row-major: observations [size, obsSize], actions [size, actSize], the rest [size]. */
export interface ReplayBatch {
  size: number;
  observationSize: number;
  actionSize: number;
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObservations: Float32Array;
  /** 1 where the episode terminated at this transition (no bootstrapping), else 0. */
  terminated: Float32Array;
}

/** Everything a buffer holds, for checkpoints: only the filled part of each array. */
export interface ReplayBufferSnapshot {
  capacity: number;
  observationSize: number;
  actionSize: number;
  /** Transitions held. */
  size: number;
  /** Index the next transition is written to. */
  next: number;
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObservations: Float32Array;
  terminated: Float32Array;
}

export class ReplayBuffer {
  private readonly observations: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly nextObservations: Float32Array;
  private readonly terminated: Float32Array;
  private count = 0;
  private next = 0;

  /** @param capacity transitions kept (Table 6: 1e6); the oldest are overwritten first. */
  constructor(
    readonly capacity: number,
    readonly observationSize: number,
    readonly actionSize: number,
  ) {
    for (const [name, v] of [["capacity", capacity], ["observationSize", observationSize], ["actionSize", actionSize]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`ReplayBuffer ${name} must be a positive integer, got ${v}`);
    }
    this.observations = new Float32Array(capacity * observationSize);
    this.actions = new Float32Array(capacity * actionSize);
    this.rewards = new Float32Array(capacity);
    this.nextObservations = new Float32Array(capacity * observationSize);
    this.terminated = new Float32Array(capacity);
  }

  /** Transitions held now. */
  get size(): number {
    return this.count;
  }

  add(observation: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObservation: ArrayLike<number>, terminated: boolean): void {
    if (observation.length !== this.observationSize || nextObservation.length !== this.observationSize) {
      throw new ConfigError(`ReplayBuffer.add: observations must have ${this.observationSize} values, got ${observation.length} and ${nextObservation.length}`);
    }
    if (action.length !== this.actionSize) throw new ConfigError(`ReplayBuffer.add: action must have ${this.actionSize} values, got ${action.length}`);
    if (!Number.isFinite(reward)) throw new ConfigError(`ReplayBuffer.add: reward must be finite, got ${reward}`);
    const i = this.next;
    this.observations.set(observation, i * this.observationSize);
    this.nextObservations.set(nextObservation, i * this.observationSize);
    this.actions.set(action, i * this.actionSize);
    this.rewards[i] = reward;
    this.terminated[i] = terminated ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** `batchSize` transitions drawn uniformly with replacement. */
  sample(batchSize: number, rng: Rng): ReplayBatch {
    if (this.count === 0) throw new ConfigError("ReplayBuffer.sample: the buffer is empty");
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`ReplayBuffer.sample: batchSize must be a positive integer, got ${batchSize}`);
    const o = this.observationSize;
    const a = this.actionSize;
    const batch: ReplayBatch = {
      size: batchSize,
      observationSize: o,
      actionSize: a,
      observations: new Float32Array(batchSize * o),
      actions: new Float32Array(batchSize * a),
      rewards: new Float32Array(batchSize),
      nextObservations: new Float32Array(batchSize * o),
      terminated: new Float32Array(batchSize),
    };
    for (let b = 0; b < batchSize; b++) {
      const i = rng.int(this.count);
      batch.observations.set(this.observations.subarray(i * o, (i + 1) * o), b * o);
      batch.nextObservations.set(this.nextObservations.subarray(i * o, (i + 1) * o), b * o);
      batch.actions.set(this.actions.subarray(i * a, (i + 1) * a), b * a);
      batch.rewards[b] = this.rewards[i];
      batch.terminated[b] = this.terminated[i];
    }
    return batch;
  }

  snapshot(): ReplayBufferSnapshot {
    const n = this.count;
    return {
      capacity: this.capacity,
      observationSize: this.observationSize,
      actionSize: this.actionSize,
      size: n,
      next: this.next,
      observations: this.observations.slice(0, n * this.observationSize),
      actions: this.actions.slice(0, n * this.actionSize),
      rewards: this.rewards.slice(0, n),
      nextObservations: this.nextObservations.slice(0, n * this.observationSize),
      terminated: this.terminated.slice(0, n),
    };
  }

  static restore(s: ReplayBufferSnapshot): ReplayBuffer {
    const buffer = new ReplayBuffer(s.capacity, s.observationSize, s.actionSize);
    if (!(s.size >= 0 && s.size <= s.capacity) || !(s.next >= 0 && s.next < s.capacity) || s.rewards.length !== s.size) {
      throw new ConfigError(`ReplayBuffer.restore: inconsistent snapshot (size ${s.size}, next ${s.next}, capacity ${s.capacity}, rewards ${s.rewards.length})`);
    }
    buffer.observations.set(s.observations);
    buffer.actions.set(s.actions);
    buffer.rewards.set(s.rewards);
    buffer.nextObservations.set(s.nextObservations);
    buffer.terminated.set(s.terminated);
    buffer.count = s.size;
    buffer.next = s.next;
    return buffer;
  }
}
