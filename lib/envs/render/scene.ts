/**
 * A renderer-neutral snapshot of what an env looks like: primitive geoms with world poses. Envs build
 * one in `scene()`; `svg.ts` draws it. Keeping the two apart lets a frame be stored and drawn later
 * (filmstrips) without holding on to MuJoCo memory.
 */

/** The primitive shapes the SVG renderer draws (MuJoCo geom types that the tasks use). */
export type GeomShape = "plane" | "sphere" | "capsule" | "cylinder";

export interface SceneGeom {
  shape: GeomShape;
  /** Centre in world coordinates (metres). */
  pos: [number, number, number];
  /** Orientation as a row-major 3x3 rotation (MuJoCo's xmat): column k is the geom's local axis k in world. */
  mat: number[];
  /** MuJoCo geom size: sphere [r], capsule/cylinder [r, half-length along local z], plane [half-x, half-y]. */
  size: number[];
  /** CSS colour. */
  color: string;
}

/**
 * "side": x to the right, z up, looking along +y (Hopper, Walker2d, HalfCheetah, Pendulum);
 * "top": x to the right, y up, looking down (Ant's footprint, PointReach).
 */
export type SceneView = "side" | "top";

export interface Scene {
  view: SceneView;
  geoms: SceneGeom[];
  /** World rectangle shown (metres, in the view's plane): centred on `centerX`, from `bottom` up by `height`. */
  window: { centerX: number; width: number; bottom: number; height: number };
  /** Caption under the frame, e.g. "t = 0.40 s". */
  label?: string;
  /** Draw distance ticks on the ground so forward motion is visible between frames. */
  groundTicks?: boolean;
}

/** MuJoCo geom type codes (mjtGeom) for the shapes above; others are not drawn. */
export const MJ_GEOM_SHAPES: Readonly<Record<number, GeomShape>> = { 0: "plane", 2: "sphere", 3: "capsule", 5: "cylinder" };

/** CSS rgb() from MuJoCo rgba in [0, 1] (alpha ignored). */
export function cssColor(r: number, g: number, b: number): string {
  const c = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);
  return `rgb(${c(r)},${c(g)},${c(b)})`;
}

export const IDENTITY_MAT: readonly number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
