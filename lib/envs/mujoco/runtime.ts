/**
 * The MuJoCo WebAssembly module (npm `mujoco-js`, MuJoCo 3.3.8), loaded once per process and shared,
 * and the compiled models, shared by every env of a task and freed when the last one is disposed.
 * Nothing in the wasm heap is garbage-collected: every MjModel/MjData here is `.delete()`d explicitly.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { MainModule, MjModel } from "mujoco-js";
import { CorruptFileError } from "../../core/errors";
import { projectRoot } from "../../core/paths";

let modulePromise: Promise<MainModule> | undefined;

/** The shared MuJoCo module (loads on first call, ~0.1 s). */
export function loadMujoco(): Promise<MainModule> {
  if (modulePromise === undefined) {
    modulePromise = import("mujoco-js").then((m) => m.default()).catch((e: unknown) => {
      modulePromise = undefined; // let a later call retry
      throw e;
    });
  }
  return modulePromise;
}

/** Folder of the MJCF files; they live in lib/ and are read from there whether code runs from lib/ or dist/lib/. */
export function modelsDir(): string {
  return path.join(projectRoot(), "lib", "envs", "mujoco", "models");
}

interface CachedModel {
  model: MjModel;
  users: number;
}
const models = new Map<string, CachedModel>();

/** A compiled model shared by reference count; pair every call with `releaseModel(file)`. */
export function acquireModel(mj: MainModule, file: string): MjModel {
  const cached = models.get(file);
  if (cached !== undefined) {
    cached.users += 1;
    return cached.model;
  }
  const source = path.join(modelsDir(), file);
  let xml: string;
  try {
    xml = fs.readFileSync(source, "utf8");
  } catch (e) {
    throw new CorruptFileError(`cannot read MuJoCo model ${source}: ${(e as Error).message}`);
  }
  const memPath = `/iapo-${file}`;
  mj.FS.writeFile(memPath, xml);
  let model: MjModel | null = null;
  try {
    model = mj.MjModel.loadFromXML(memPath);
  } catch {
    // the wasm build throws a CppException with no message on XML errors
    model = null;
  } finally {
    mj.FS.unlink(memPath);
  }
  if (!model) throw new CorruptFileError(`MuJoCo could not compile ${source} (invalid MJCF)`);
  models.set(file, { model, users: 1 });
  return model;
}

export function releaseModel(file: string): void {
  const cached = models.get(file);
  if (cached === undefined) return;
  cached.users -= 1;
  if (cached.users <= 0) {
    cached.model.delete();
    models.delete(file);
  }
}

/** How many compiled models are alive (for leak tests). */
export function liveModelCount(): number {
  return models.size;
}
