/**
 * Whether the native tests run here, and why not. One place decides, so that a machine where the addon should
 * load but does not fails native-required.test.ts (instead of every native test skipping quietly), while
 * `IAPO_BACKEND=wasm-js` runs the suite without the addon on purpose and the native tests say so when they skip.
 */
import { loadNative, type NativeLoad } from "../../lib/backend/native";

/** Why this run goes without the addon on purpose, or null when it is meant to use it. */
export function withoutAddonOnPurpose(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.IAPO_BACKEND?.trim() === "wasm-js") return "IAPO_BACKEND=wasm-js: the suite runs without the native addon on purpose";
  if (env.IAPO_NATIVE === "0") return "IAPO_NATIVE=0: the native addon is disabled on purpose";
  return null;
}

/**
 * Why the addon need not load on this platform, or null where it must: x86-64 and arm64 Linux, where
 * scripts/setup.sh installs what native/build.js needs (g++, python3, libopenblas-dev).
 */
export function addonNotExpected(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string | null {
  if (platform === "linux" && (arch === "x64" || arch === "arm64")) return null;
  return `no native build is set up for ${platform}/${arch} (only x86-64 and arm64 Linux)`;
}

/** The addon for the native tests, or why they skip (the `skip` option of node:test). */
export function nativeForTests(env: NodeJS.ProcessEnv = process.env): { native: NativeLoad; skip: false | string } {
  const onPurpose = withoutAddonOnPurpose(env);
  if (onPurpose) return { native: { ok: false, why: onPurpose }, skip: onPurpose };
  const native = loadNative(env);
  return { native, skip: native.ok ? false : `native addon unavailable: ${native.why}` };
}
