/** One measured figure. Benchmarks print numbers; they never pass or fail. */
export interface BenchFigure {
  /** Which suite measured it, e.g. "backend", "envs", "training". */
  suite: string;
  /** What was measured, e.g. "matmul 256^3" or "Hopper-v2 env steps". */
  name: string;
  /** The configuration it was measured under, e.g. the backend name or "bare mujoco-js". */
  variant: string;
  value: number;
  /** Unit of `value`, e.g. "ms/update", "GFLOP/s", "steps/s". */
  unit: string;
  /** Optional target or comparison, shown beside the number (e.g. "target <= 6", "PyTorch ~9.5"). */
  note?: string;
}

export interface BenchOptions {
  /** Fewer repetitions: for a quick look, not for reporting. */
  quick: boolean;
}

/** A group of measurements that belong together; suites run one after another in one process. */
export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchFigure[]>;
}
