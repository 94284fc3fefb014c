/**
 * Native coverage cannot vanish: where the addon should load (x86-64 or arm64 Linux, set up by scripts/setup.sh)
 * and the run is not meant to go without it, a missing, broken or stale addon fails here with the reason, instead
 * of every native test skipping. The version check that refuses a stale addon is tested here too.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { addonMismatch, addonPath, expectedAddonVersion, loadNative, REBUILD_COMMAND } from "../../lib/backend/native";
import { addonNotExpected, withoutAddonOnPurpose } from "./native-available";

const onPurpose = withoutAddonOnPurpose();
const notExpected = addonNotExpected();

test("the native addon loads where it should (a failure names why; `node native/build.js` rebuilds it)", { skip: onPurpose ?? notExpected ?? false }, () => {
  const native = loadNative();
  assert.ok(native.ok, `the native addon did not load on ${process.platform}/${process.arch}: ${native.ok ? "" : native.why}`);
});

test("which runs go without the addon: IAPO_BACKEND=wasm-js or IAPO_NATIVE=0 on purpose, platforms other than x86-64 / arm64 Linux", () => {
  assert.match(withoutAddonOnPurpose({ IAPO_BACKEND: "wasm-js" }) ?? "", /IAPO_BACKEND=wasm-js.*on purpose/);
  assert.match(withoutAddonOnPurpose({ IAPO_NATIVE: "0" }) ?? "", /IAPO_NATIVE=0/);
  assert.equal(withoutAddonOnPurpose({}), null);
  assert.equal(withoutAddonOnPurpose({ IAPO_BACKEND: "wasm-native" }), null);
  assert.equal(addonNotExpected("linux", "x64"), null);
  assert.equal(addonNotExpected("linux", "arm64"), null);
  assert.match(addonNotExpected("darwin", "arm64") ?? "", /darwin\/arm64/);
  assert.match(addonNotExpected("linux", "ia32") ?? "", /linux\/ia32/);
});

test("an addon built from other sources is refused, saying what to rebuild", { skip: onPurpose ?? notExpected ?? false }, () => {
  const native = loadNative();
  assert.ok(native.ok, native.ok ? "" : native.why);
  const expected = expectedAddonVersion(path.resolve(path.dirname(addonPath()), "..", ".."));
  assert.equal(native.addon.version, expected, "the loaded addon is the one its sources describe");
  assert.match(expected, /^s[0-9a-f]{16}$/);
  assert.equal(addonMismatch(native.addon, expected), null);
  const stale = addonMismatch(native.addon, "s0000000000000000");
  assert.ok(stale?.includes(REBUILD_COMMAND) && stale.includes(native.addon.version) && stale.includes("s0000000000000000"), stale ?? "");
  // an addon from before versions existed has neither version nor passLayout
  assert.match(addonMismatch({}, expected) ?? "", new RegExp(`no version.*${REBUILD_COMMAND}`));
  // a layout that does not name the fields the TypeScript writes
  const { pass, layer, widths } = native.addon.passLayout;
  const renamed = { ...native.addon.passLayout, layer: { ...layer, wrong: layer.w } as typeof layer };
  delete (renamed.layer as Partial<typeof layer>).w;
  assert.match(addonMismatch({ version: expected, passLayout: renamed }, expected) ?? "", /passLayout/);
  const clash = { ...native.addon.passLayout, pass: { ...pass, depth: pass.rows } };
  assert.match(addonMismatch({ version: expected, passLayout: clash }, expected) ?? "", /passLayout/);
  assert.equal(widths.pass, Object.keys(pass).length);
  assert.equal(widths.layer, Object.keys(layer).length);
});
