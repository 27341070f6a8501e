/** What the benchmark page's per-kernel profile returns (tests/bench/page.ts whycamProfile). */
export interface KernelTimes {
  /** Median wall time of a profiled run (profiling adds a little per kernel). */
  wall_ms: number;
  /** Sum of the kernels' medians. */
  kernel_ms: number;
  kernels: Array<{ name: string; calls: number; ms: number }>;
}

export interface KernelProfile {
  model: string;
  isolated: boolean;
  threads: number;
  /** Stock model.predict. */
  stock_forward: KernelTimes;
  /** Our forward: an explain request stopped after its prediction. */
  forward: KernelTimes;
  /** Forward + the vanilla backward pass. */
  vanilla_request: KernelTimes;
  /** All five methods (the default request). */
  all_five: KernelTimes;
}
