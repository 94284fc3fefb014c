import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../lib/core/errors";
import { Pendulum } from "../../lib/envs/classic/pendulum";
import { PointReach } from "../../lib/envs/classic/pointReach";
import { recordFrames } from "../../lib/envs/render/record";
import { renderFilmstripSvg, renderFrameSvg } from "../../lib/envs/render/svg";
import { makeEnv } from "../../lib/envs/registry";

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

test("an upright pendulum is drawn as a vertical round-capped line from the pivot, 1 m up", () => {
  const env = new Pendulum();
  env.reset({ seed: 0 });
  env.setState({ ...env.getState(), physics: [0, 0] });
  const svg = renderFrameSvg(env); // 100 px/m, window 2.6 m wide centred on 0, bottom -1.3
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="260" height="260"/);
  assert.match(svg, /<line x1="130" y1="130" x2="130" y2="30" stroke="rgb\(204,77,77\)" stroke-width="12" stroke-linecap="round"/);
  assert.match(svg, /<circle cx="130" cy="130" r="5"/);
});

test("a Hopper frame shows its four capsules and the floor; a filmstrip lays frames side by side", async () => {
  const env = await makeEnv("Hopper-v2");
  const frames = recordFrames(env, () => [0, 0, 0], { seed: 0, every: 5, maxSteps: 12 });
  assert.deepEqual(frames.map((f) => f.label), ["t = 0.00 s", "t = 0.04 s", "t = 0.08 s", "t = 0.10 s"]);
  const one = renderFrameSvg(frames[0], { scale: 50 });
  assert.equal(count(one, /stroke-linecap="round"/g), 4);
  assert.match(one, /width="150" height="109"/); // 3 m x 1.85 m at 50 px/m, plus a 16 px label row
  const strip = renderFilmstripSvg(frames, { scale: 50, gap: 4 });
  assert.match(strip, /width="612" height="109"/); // 4 x 150 + 3 x 4
  assert.equal(count(strip, /stroke-linecap="round"/g), 16);
  const grid = renderFilmstripSvg(frames, { scale: 50, gap: 4, columns: 2 });
  assert.match(grid, /width="304" height="222"/);
  env.dispose();
});

test("the frame follows the torso: a capsule's position in pixels tracks the world", async () => {
  const env = await makeEnv("HalfCheetah-v2");
  env.reset({ seed: 0 });
  const scene = env.scene();
  const torso = scene.geoms.find((g) => g.shape === "capsule")!;
  // the torso capsule lies along x (half-length 0.5); drawn from x-0.5 to x+0.5 around the window centre
  const cx = scene.window.centerX;
  const x1 = (torso.pos[0] - torso.size[1] * torso.mat[2] - (cx - 1.5)) * 100;
  assert.ok(renderFrameSvg(scene).includes(`x1="${Math.round(x1 * 100) / 100}"`));
  assert.equal(env.scene("top").view, "top");
  env.dispose();
});

test("PointReach is drawn from above with the target and the point", () => {
  const env = new PointReach();
  env.reset({ seed: 1 });
  const svg = renderFrameSvg(env);
  assert.equal(count(svg, /<circle /g), 2);
  assert.match(svg, /fill="rgb\(214,69,65\)"/);
});

test("rendering refuses an empty filmstrip and a bad scale", () => {
  assert.throws(() => renderFilmstripSvg([]), ConfigError);
  assert.throws(() => renderFrameSvg(new Pendulum().scene(), { scale: 0 }), ConfigError);
  assert.throws(() => recordFrames(new Pendulum(), () => [0], { every: 0 }), ConfigError);
});
