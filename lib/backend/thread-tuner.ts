/**
 * Picks the native addon's thread count (1 or 2) while a run trains, from the updates' own timings.
 *
 * Two threads make a direct SAC update ~1.8x faster on a quiet two-core machine, but on a shared host that
 * steals CPU time from the VM the worker thread's core is often taken away mid-task, and the caller waits for it:
 * then two threads can take longer than one (within a minute, and back again), while one thread's time holds
 * steady. So a run keeps timing its updates, now and then tries the other setting for a few updates,
 * and keeps whichever had the lower median. The addon's values never depend on the thread count (its tests
 * check bit-identical results on one and two threads), so switching changes speed only, never a number a run logs.
 */
import { median } from "../core/stats";
import { ConfigError } from "../core/errors";
import { loadNative, type NativeLoad } from "./native";
import { threadsTuned } from "./blas-env";

/** What the tuner drives: the addon's setThreads. */
export interface ThreadSetter {
  setThreads(n: number): void;
}

export interface ThreadTunerOptions {
  /** Updates between probes at first and after every switch. */
  minInterval: number;
  /** Each probe that keeps the setting doubles the interval, up to this many updates. */
  maxInterval: number;
  /**
   * On two threads, once one thread has been timed, a probe also waits until their recent median comes within the
   * margin of one thread's last median (it cannot win before), or until this many updates have passed.
   */
  quietInterval: number;
  /** Timed updates per probe; one more before them is not timed (a woken worker, cold caches). */
  probeLength: number;
  /** Recent update times kept at the current setting, the probe's yardstick. */
  window: number;
  /** The other setting wins when its probe median is below `margin` x the current median (hysteresis). */
  margin: number;
}

/**
 * Defaults: a first probe (1 + 7 updates) after 64 updates, then at most every 512 on one thread (~4 s of direct
 * updates; the host's slow spells come and go over seconds to minutes). Two threads well ahead of one are probed only every
 * 2048 updates (~0.2% of a quiet run's time at a direct update's 1.8x).
 */
export const DEFAULT_THREAD_TUNER_OPTIONS: Readonly<ThreadTunerOptions> = {
  minInterval: 64,
  maxInterval: 512,
  quietInterval: 2048,
  probeLength: 7,
  window: 16,
  margin: 0.9,
};

/** The tuner's counts, for logs and benchmarks. */
export interface ThreadTunerStats {
  threads: 1 | 2;
  probes: number;
  switches: number;
}

type Threads = 1 | 2;

function checkOptions(o: ThreadTunerOptions): void {
  const whole = (name: keyof ThreadTunerOptions, min: number): void => {
    if (!Number.isInteger(o[name]) || o[name] < min) throw new ConfigError(`thread tuner: ${name} must be a whole number >= ${min}, got ${o[name]}`);
  };
  whole("minInterval", 1);
  whole("probeLength", 1);
  whole("window", 1);
  whole("maxInterval", o.minInterval);
  whole("quietInterval", o.maxInterval);
  if (!(o.margin > 0 && o.margin <= 1)) throw new ConfigError(`thread tuner: margin must be in (0, 1], got ${o.margin}`);
}

export class ThreadTuner {
  private readonly options: ThreadTunerOptions;
  private current: Threads;
  private readonly initial: Threads;
  /** The last `window` update times (ms) at the current setting. */
  private recent: number[] = [];
  private sinceProbe = 0;
  private interval: number;
  /** During a probe: its timed updates so far, and whether the untimed first one is still to come. */
  private probe: { times: number[]; untimed: boolean } | null = null;
  private probes = 0;
  private switches = 0;
  /** One thread's median (ms) at the last probe, probed or held; null before the first probe. */
  private lastOne: number | null = null;

  constructor(
    private readonly addon: ThreadSetter,
    initial: Threads = 2,
    options: Partial<ThreadTunerOptions> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.options = { ...DEFAULT_THREAD_TUNER_OPTIONS, ...options };
    checkOptions(this.options);
    if (initial !== 1 && initial !== 2) throw new ConfigError(`thread tuner: threads must be 1 or 2, got ${String(initial)}`);
    this.initial = initial;
    this.current = initial;
    this.interval = this.options.minInterval;
    this.addon.setThreads(initial);
  }

  /** The threads the next update runs on. */
  get threads(): Threads {
    return this.probe ? this.other() : this.current;
  }

  stats(): ThreadTunerStats {
    return { threads: this.current, probes: this.probes, switches: this.switches };
  }

  /** Runs one update, timing it; the thread count for the next one may change. */
  time<T>(update: () => T): T {
    const t0 = this.now();
    const result = update();
    this.record(this.now() - t0);
    return result;
  }

  /** Counts one update that took `ms` (what `time` does after the update). */
  record(ms: number): void {
    const o = this.options;
    if (this.probe) {
      if (this.probe.untimed) this.probe.untimed = false;
      else this.probe.times.push(ms);
      if (this.probe.times.length >= o.probeLength) this.decide(this.probe.times);
      return;
    }
    this.recent.push(ms);
    if (this.recent.length > o.window) this.recent.shift();
    this.sinceProbe++;
    if (this.recent.length < o.window || this.sinceProbe < this.interval) return;
    if (this.current === 2 && this.lastOne !== null && this.sinceProbe < o.quietInterval) {
      if (median(this.recent) < o.margin * this.lastOne) return; // well ahead of one thread's last time
    }
    this.probe = { times: [], untimed: true };
    this.probes++;
    this.addon.setThreads(this.other());
  }

  /** Gives the addon back the thread count it had when the tuner started. */
  finish(): void {
    this.addon.setThreads(this.initial);
  }

  private other(): Threads {
    return this.current === 2 ? 1 : 2;
  }

  private decide(probeTimes: number[]): void {
    this.probe = null;
    this.sinceProbe = 0;
    const probed = median(probeTimes);
    const held = median(this.recent);
    this.lastOne = this.current === 1 ? held : probed;
    if (probed < this.options.margin * held) {
      this.current = this.other();
      this.recent = probeTimes;
      this.switches++;
      this.interval = this.options.minInterval;
    } else {
      this.interval = Math.min(2 * this.interval, this.options.maxInterval);
    }
    this.addon.setThreads(this.current);
  }
}

/**
 * A tuner for a training run when it can help: the addon loaded and two threads were chosen because the machine
 * has two cores (not forced by IAPO_THREADS, which fixes the count). Otherwise null, and threads stay as they are.
 */
export function autoThreadTuner(load: NativeLoad = loadNative(), options: Partial<ThreadTunerOptions> = {}): ThreadTuner | null {
  if (!load.ok || !threadsTuned(load.blas)) return null;
  return new ThreadTuner(load.addon, 2, options);
}
