/**
 * Plain-SVG drawings of scenes, for notebooks: no browser, no WebGL (the MuJoCo wasm build has no
 * renderer). A capsule seen from any side projects to a stadium, which SVG draws exactly as a line with
 * round caps and stroke width 2r; spheres are circles; the floor is a band with distance ticks.
 */
import { ConfigError } from "../../core/errors";
import type { Env } from "../types";
import type { Scene, SceneGeom } from "./scene";

export interface FrameSvgOptions {
  /** Pixels per metre (default 100). */
  scale?: number;
}

export interface FilmstripSvgOptions extends FrameSvgOptions {
  /** Frames per row (default: all in one row). */
  columns?: number;
  /** Pixels between frames (default 4). */
  gap?: number;
}

const LABEL_HEIGHT = 16;
const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

/** Where a world point lands in the frame's plane: (horizontal, vertical, depth); larger depth is nearer. */
function project(scene: Scene, p: readonly number[]): [number, number, number] {
  return scene.view === "side" ? [p[0], p[2], -p[1]] : [p[0], p[1], p[2]];
}

/** The SVG elements of one frame, drawn in a box of `w` x `h` pixels at the origin. */
function frameBody(scene: Scene, scale: number): { body: string; w: number; h: number } {
  const { centerX, width, bottom, height } = scene.window;
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  const left = centerX - width / 2;
  const px = (x: number): number => (x - left) * scale;
  const py = (y: number): number => h - (y - bottom) * scale;
  const parts: string[] = [`<rect x="0" y="0" width="${w}" height="${h}" fill="rgb(245,247,250)"/>`];

  const planes = scene.geoms.filter((g) => g.shape === "plane");
  for (const g of planes) {
    if (scene.view === "side") {
      const gy = py(g.pos[2]);
      parts.push(`<rect x="0" y="${fmt(gy)}" width="${w}" height="${fmt(Math.max(0, h - gy))}" fill="${g.color}"/>`);
      parts.push(`<line x1="0" y1="${fmt(gy)}" x2="${w}" y2="${fmt(gy)}" stroke="rgb(90,110,90)" stroke-width="1"/>`);
      if (scene.groundTicks) parts.push(...groundTicks(left, width, (x) => px(x), gy));
    } else if (scene.groundTicks) {
      // top view: a faint 0.5 m grid stands in for the floor
      for (let x = Math.ceil(left * 2) / 2; x <= left + width; x += 0.5) {
        parts.push(`<line x1="${fmt(px(x))}" y1="0" x2="${fmt(px(x))}" y2="${h}" stroke="rgb(215,222,215)" stroke-width="1"/>`);
      }
      for (let y = Math.ceil(bottom * 2) / 2; y <= bottom + height; y += 0.5) {
        parts.push(`<line x1="0" y1="${fmt(py(y))}" x2="${w}" y2="${fmt(py(y))}" stroke="rgb(215,222,215)" stroke-width="1"/>`);
      }
    }
  }

  // painter's order: far geoms first
  const solids = scene.geoms.filter((g) => g.shape !== "plane").map((g) => ({ g, depth: project(scene, g.pos)[2] }));
  solids.sort((a, b) => a.depth - b.depth);
  for (const { g } of solids) parts.push(drawSolid(scene, g, scale, px, py));
  return { body: parts.join(""), w, h };
}

function groundTicks(left: number, width: number, px: (x: number) => number, gy: number): string[] {
  const out: string[] = [];
  for (let x = Math.ceil(left * 2) / 2; x <= left + width; x += 0.5) {
    const major = Math.abs(x - Math.round(x)) < 1e-9;
    out.push(`<line x1="${fmt(px(x))}" y1="${fmt(gy)}" x2="${fmt(px(x))}" y2="${fmt(gy + (major ? 8 : 4))}" stroke="rgb(90,110,90)" stroke-width="1"/>`);
    if (major) {
      out.push(`<text x="${fmt(px(x) + 2)}" y="${fmt(gy + 18)}" font-size="10" font-family="sans-serif" fill="rgb(70,90,70)">${Math.round(x)} m</text>`);
    }
  }
  return out;
}

function drawSolid(scene: Scene, g: SceneGeom, scale: number, px: (x: number) => number, py: (y: number) => number): string {
  const [cx, cy] = project(scene, g.pos);
  const r = g.size[0] * scale;
  if (g.shape === "sphere") {
    return `<circle cx="${fmt(px(cx))}" cy="${fmt(py(cy))}" r="${fmt(r)}" fill="${g.color}" stroke="rgb(60,60,60)" stroke-width="0.5"/>`;
  }
  // capsule / cylinder: the segment along the local z axis (third column of the rotation)
  const half = g.size[1];
  const axis = [g.mat[2], g.mat[5], g.mat[8]];
  const a = project(scene, [g.pos[0] - half * axis[0], g.pos[1] - half * axis[1], g.pos[2] - half * axis[2]]);
  const b = project(scene, [g.pos[0] + half * axis[0], g.pos[1] + half * axis[1], g.pos[2] + half * axis[2]]);
  const cap = g.shape === "capsule" ? "round" : "butt";
  return (
    `<line x1="${fmt(px(a[0]))}" y1="${fmt(py(a[1]))}" x2="${fmt(px(b[0]))}" y2="${fmt(py(b[1]))}" ` +
    `stroke="${g.color}" stroke-width="${fmt(2 * r)}" stroke-linecap="${cap}" stroke-opacity="0.95"/>`
  );
}

function checkScale(scale: number): number {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new ConfigError(`scale must be a positive number of pixels per metre, got ${scale}`);
  return scale;
}

function isEnv(x: Env | Scene): x is Env {
  return typeof (x as Env).scene === "function";
}

/** One frame as a standalone SVG document: an env's current pose, or a stored scene. */
export function renderFrameSvg(source: Env | Scene, options: FrameSvgOptions = {}): string {
  const scene = isEnv(source) ? source.scene() : source;
  return renderFilmstripSvg([scene], options);
}

/** Frames side by side (wrapping after `columns`), each with its label underneath: a rollout at a glance. */
export function renderFilmstripSvg(frames: readonly Scene[], options: FilmstripSvgOptions = {}): string {
  if (frames.length === 0) throw new ConfigError("renderFilmstripSvg needs at least one frame");
  const scale = checkScale(options.scale ?? 100);
  const gap = options.gap ?? 4;
  const columns = Math.max(1, Math.min(frames.length, options.columns ?? frames.length));
  const bodies = frames.map((f) => frameBody(f, scale));
  const cellW = Math.max(...bodies.map((b) => b.w));
  const hasLabels = frames.some((f) => f.label !== undefined);
  const cellH = Math.max(...bodies.map((b) => b.h)) + (hasLabels ? LABEL_HEIGHT : 0);
  const rows = Math.ceil(frames.length / columns);
  const W = columns * cellW + (columns - 1) * gap;
  const H = rows * cellH + (rows - 1) * gap;
  const cells = bodies.map((b, i) => {
    const x = (i % columns) * (cellW + gap);
    const y = Math.floor(i / columns) * (cellH + gap);
    const label = frames[i].label;
    const text =
      label === undefined
        ? ""
        : `<text x="${fmt(b.w / 2)}" y="${b.h + 12}" font-size="11" font-family="sans-serif" text-anchor="middle" fill="rgb(40,40,40)">${escapeXml(label)}</text>`;
    return `<g transform="translate(${x},${y})"><svg width="${b.w}" height="${b.h}" overflow="hidden">${b.body}</svg>${text}</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${cells.join("")}</svg>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
