/**
 * Cached typed-array views into one MjData. Each `d.qpos` access through the bindings builds a new
 * view (~0.7 µs), so the env keeps them; but a view dies (length 0) when the wasm heap grows, e.g. when
 * another env allocates its MjData. `fresh()` re-fetches them in that case: one length check per step.
 */
import type { MjData } from "mujoco-js";

export interface DataViews {
  qpos: Float64Array;
  qvel: Float64Array;
  ctrl: Float64Array;
  qacc_warmstart: Float64Array;
  xpos: Float64Array;
  cfrc_ext: Float64Array;
  geom_xpos: Float64Array;
  geom_xmat: Float64Array;
}

export class ViewCache {
  private v: DataViews;

  constructor(private readonly d: MjData) {
    this.v = this.fetch();
  }

  private fetch(): DataViews {
    const d = this.d;
    return {
      qpos: d.qpos as Float64Array,
      qvel: d.qvel as Float64Array,
      ctrl: d.ctrl as Float64Array,
      qacc_warmstart: d.qacc_warmstart as Float64Array,
      xpos: d.xpos as Float64Array,
      cfrc_ext: d.cfrc_ext as Float64Array,
      geom_xpos: d.geom_xpos as Float64Array,
      geom_xmat: d.geom_xmat as Float64Array,
    };
  }

  /** Live views; re-fetched if the heap has grown since they were taken. */
  fresh(): DataViews {
    if (this.v.qpos.length === 0) this.v = this.fetch();
    return this.v;
  }
}
