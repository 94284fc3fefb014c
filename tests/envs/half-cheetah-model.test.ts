/**
 * HalfCheetah-v2's physics as gym v2 had them: our model file, compiled by MuJoCo, against the compiled quantities
 * of gym's half_cheetah.xml (shared/reference/mujoco-tasks.md, transcribed below as printed there), field by field:
 * option (timestep, integrator, gravity, sizes, total mass, no flag changed from MuJoCo's defaults), qpos0, bodies,
 * geoms, joints (damping and armature included) and actuators. Each value must match to the digits printed.
 *
 * The flags matter as much as the numbers: MuJoCo 2.0's Euler integrated joint damping implicitly, as MuJoCo 3's
 * does by default; `<flag eulerdamp="disable"/>` would make it explicit and move the trajectories away from gym's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { MainModule, MjModel } from "mujoco-js";
import { acquireModel, loadMujoco, releaseModel } from "../../lib/envs/mujoco/runtime";

/** The HalfCheetah section of mujoco-tasks.md ("Compiled model facts"), verbatim. */
const REFERENCE = `
### HalfCheetah
option: timestep=0.01 integrator=Euler gravity=0,0,-9.81 nq=9 nv=9 nu=6 nbody=8 total mass=14
qpos0=[0,0,0,0,0,0,0,0,0]

| body | parent | pos (in parent) | quat | mass |
|---|---|---|---|---|
| torso | world | 0,0,0.7 | 1,0,0,0 | 6.2502 |
| bthigh | torso | -0.5,0,0 | 1,0,0,0 | 1.5435 |
| bshin | bthigh | 0.16,0,-0.25 | 1,0,0,0 | 1.5874 |
| bfoot | bshin | -0.28,0,-0.14 | 1,0,0,0 | 1.0954 |
| fthigh | torso | 0.5,0,0 | 1,0,0,0 | 1.4381 |
| fshin | fthigh | -0.14,0,-0.24 | 1,0,0,0 | 1.2008 |
| ffoot | fshin | 0.13,0,-0.18 | 1,0,0,0 | 0.8845 |

| geom | body | type | size | pos (in body) | quat | friction | contype/conaff | condim | margin | solref | solimp |
|---|---|---|---|---|---|---|---|---|---|---|---|
| floor | world | plane | 40,40,40 | 0,0,0 | 1,0,0,0 | 0.4,0.1,0.1 | 1/1 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| torso | torso | capsule | 0.046,0.5,0 | 0,0,0 | 0.7071,0,-0.7071,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| head | torso | capsule | 0.046,0.15,0 | 0.6,0,0.1 | 0.9069,0,0.4214,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| bthigh | bthigh | capsule | 0.046,0.145,0 | 0.1,0,-0.13 | -0.3233,0,-0.9463,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| bshin | bshin | capsule | 0.046,0.15,0 | -0.14,0,-0.07 | 0.5276,0,-0.8495,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| bfoot | bfoot | capsule | 0.046,0.094,0 | 0.03,0,-0.097 | 0.9909,0,-0.1346,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| fthigh | fthigh | capsule | 0.046,0.133,0 | -0.07,0,-0.12 | 0.9664,0,0.2571,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| fshin | fshin | capsule | 0.046,0.106,0 | 0.065,0,-0.09 | 0.9553,0,-0.2955,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |
| ffoot | ffoot | capsule | 0.046,0.07,0 | 0.045,0,-0.07 | 0.9553,0,-0.2955,0 | 0.4,0.1,0.1 | 1/0 | 3 | 0 | 0.02,1 | 0,0.8,0.01,0.5,2 |

| joint | body | type | axis | pos (in body) | limited | range | stiffness | damping | armature | ref(qpos0) |
|---|---|---|---|---|---|---|---|---|---|---|
| rootx | torso | slide | 1,0,0 | 0,0,0 | 0 | 0,0 | 0 | 0 | 0 | 0 |
| rootz | torso | slide | 0,0,1 | 0,0,0 | 0 | 0,0 | 0 | 0 | 0 | 0 |
| rooty | torso | hinge | 0,1,0 | 0,0,0 | 0 | 0,0 | 0 | 0 | 0 | 0 |
| bthigh | bthigh | hinge | 0,1,0 | 0,0,0 | 1 | -0.52,1.05 | 240 | 6 | 0.1 | 0 |
| bshin | bshin | hinge | 0,1,0 | 0,0,0 | 1 | -0.785,0.785 | 180 | 4.5 | 0.1 | 0 |
| bfoot | bfoot | hinge | 0,1,0 | 0,0,0 | 1 | -0.4,0.785 | 120 | 3 | 0.1 | 0 |
| fthigh | fthigh | hinge | 0,1,0 | 0,0,0 | 1 | -1,0.7 | 180 | 4.5 | 0.1 | 0 |
| fshin | fshin | hinge | 0,1,0 | 0,0,0 | 1 | -1.2,0.87 | 120 | 3 | 0.1 | 0 |
| ffoot | ffoot | hinge | 0,1,0 | 0,0,0 | 1 | -0.5,0.5 | 60 | 1.5 | 0.1 | 0 |

| actuator | joint | gear | ctrllimited | ctrlrange |
|---|---|---|---|---|
| 0 bthigh | bthigh | 120 | 1 | -1,1 |
| 1 bshin | bshin | 90 | 1 | -1,1 |
| 2 bfoot | bfoot | 60 | 1 | -1,1 |
| 3 fthigh | fthigh | 120 | 1 | -1,1 |
| 4 fshin | fshin | 60 | 1 | -1,1 |
| 5 ffoot | ffoot | 30 | 1 | -1,1 |
`;

/** The rows of the markdown table whose header starts with `first` (cells trimmed, header and rule dropped). */
function table(first: string): string[][] {
  const lines = REFERENCE.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  assert.ok(start >= 0, `no "${first}" table in the reference`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** `key=value` pairs of the reference's "option:" line. */
function optionLine(): Record<string, string> {
  const line = REFERENCE.split("\n").find((l) => l.startsWith("option:"));
  assert.ok(line);
  return Object.fromEntries([...line.matchAll(/(\w+(?: \w+)?)=(\S+)/g)].map((m) => [m[1], m[2]]));
}

/** Asserts `actual` equals the printed `expected` to its printed digits (half a unit of its last decimal). */
function matches(actual: ArrayLike<number>, expected: string, where: string): void {
  const parts = expected.split(",");
  assert.equal(actual.length, parts.length, `${where}: ${actual.length} values, reference has ${parts.length}`);
  parts.forEach((p, i) => {
    const decimals = p.includes(".") ? p.split(".")[1].length : 0;
    const tol = 0.5 * 10 ** -decimals + 1e-12;
    assert.ok(Math.abs(actual[i] - Number(p)) <= tol, `${where}[${i}]: ${actual[i]} vs reference ${p}`);
  });
}

const slice = (a: ArrayLike<number>, i: number, n: number): number[] => Array.from(a).slice(i * n, (i + 1) * n);

const GEOM_TYPES: Record<string, number> = { plane: 0, sphere: 2, capsule: 3 };
const JOINT_TYPES: Record<string, number> = { free: 0, slide: 2, hinge: 3 };

async function withModel(f: (mj: MainModule, m: MjModel) => void): Promise<void> {
  const mj = await loadMujoco();
  const m = acquireModel(mj, "half_cheetah.xml");
  try {
    f(mj, m);
  } finally {
    releaseModel("half_cheetah.xml");
  }
}

test("HalfCheetah's option: timestep, Euler, gravity, sizes, total mass, qpos0, and no flag off (damping implicit as in MuJoCo 2.0)", async () => {
  await withModel((mj, m) => {
    const o = optionLine();
    const opt = m.opt;
    try {
      matches([opt.timestep], o.timestep, "timestep");
      assert.equal(o.integrator, "Euler");
      assert.equal(opt.integrator, mj.mjtIntegrator.mjINT_EULER.value, "integrator");
      matches(Array.from(opt.gravity as ArrayLike<number>), o.gravity, "gravity");
      assert.equal(opt.disableflags & mj.mjtDisableBit.mjDSBL_EULERDAMP.value, 0, "eulerdamp must stay enabled: implicit damping under Euler, as MuJoCo 2.0");
      assert.equal(opt.disableflags, 0, "no other physics flag is switched off");
      assert.equal(opt.enableflags, 0, "no optional physics flag is switched on");
    } finally {
      opt.delete();
    }
    assert.deepEqual([m.nq, m.nv, m.nu, m.nbody], [o.nq, o.nv, o.nu, o.nbody].map(Number));
    const total = Array.from(m.body_mass as ArrayLike<number>).reduce((s: number, x: number) => s + x, 0);
    matches([total], o["total mass"], "total mass");
    const qpos0 = REFERENCE.split("\n").find((l) => l.startsWith("qpos0="))!.slice("qpos0=[".length, -1);
    matches(m.qpos0 as ArrayLike<number>, qpos0, "qpos0");
  });
});

test("HalfCheetah's bodies: parent, position, orientation and mass of each", async () => {
  await withModel((mj, m) => {
    const rows = table("body");
    assert.equal(rows.length, m.nbody - 1, "bodies besides the world");
    rows.forEach(([name, parent, pos, quat, mass]) => {
      const id = mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY.value, name);
      assert.ok(id > 0, `body ${name} exists`);
      assert.equal(mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY.value, (m.body_parentid as ArrayLike<number>)[id]), parent, `${name}: parent`);
      matches(slice(m.body_pos, id, 3), pos, `${name}: pos`);
      matches(slice(m.body_quat, id, 4), quat, `${name}: quat`);
      matches([(m.body_mass as ArrayLike<number>)[id]], mass, `${name}: mass`);
    });
  });
});

test("HalfCheetah's geoms: body, type, size, pose, friction, contact filters, condim, margin, solref, solimp", async () => {
  await withModel((mj, m) => {
    const rows = table("geom");
    assert.equal(rows.length, m.ngeom);
    rows.forEach(([name, body, type, size, pos, quat, friction, filters, condim, margin, solref, solimp]) => {
      const id = mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM.value, name);
      assert.ok(id >= 0, `geom ${name} exists`);
      const at = (a: unknown): number => (a as ArrayLike<number>)[id];
      assert.equal(mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY.value, at(m.geom_bodyid)), body, `${name}: body`);
      assert.equal(at(m.geom_type), GEOM_TYPES[type], `${name}: type ${type}`);
      matches(slice(m.geom_size, id, 3), size, `${name}: size`);
      matches(slice(m.geom_pos, id, 3), pos, `${name}: pos`);
      matches(slice(m.geom_quat, id, 4), quat, `${name}: quat`);
      matches(slice(m.geom_friction, id, 3), friction, `${name}: friction`);
      assert.equal(`${at(m.geom_contype)}/${at(m.geom_conaffinity)}`, filters, `${name}: contype/conaffinity`);
      assert.equal(at(m.geom_condim), Number(condim), `${name}: condim`);
      matches([at(m.geom_margin)], margin, `${name}: margin`);
      matches(slice(m.geom_solref, id, 2), solref, `${name}: solref`);
      matches(slice(m.geom_solimp, id, 5), solimp, `${name}: solimp`);
    });
  });
});

test("HalfCheetah's joints: body, type, axis, position, limits, stiffness, damping, armature, qpos0", async () => {
  await withModel((mj, m) => {
    const rows = table("joint");
    assert.equal(rows.length, m.njnt);
    rows.forEach(([name, body, type, axis, pos, limited, range, stiffness, damping, armature, ref]) => {
      const id = mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT.value, name);
      assert.ok(id >= 0, `joint ${name} exists`);
      const at = (a: unknown, i = id): number => (a as ArrayLike<number>)[i];
      const dof = at(m.jnt_dofadr);
      assert.equal(mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY.value, at(m.jnt_bodyid)), body, `${name}: body`);
      assert.equal(at(m.jnt_type), JOINT_TYPES[type], `${name}: type ${type}`);
      matches(slice(m.jnt_axis, id, 3), axis, `${name}: axis`);
      matches(slice(m.jnt_pos, id, 3), pos, `${name}: pos`);
      assert.equal(at(m.jnt_limited), Number(limited), `${name}: limited`);
      matches(slice(m.jnt_range, id, 2), range, `${name}: range`);
      matches([at(m.jnt_stiffness)], stiffness, `${name}: stiffness`);
      matches([at(m.dof_damping, dof)], damping, `${name}: damping`);
      matches([at(m.dof_armature, dof)], armature, `${name}: armature`);
      matches([at(m.qpos0, at(m.jnt_qposadr))], ref, `${name}: qpos0`);
    });
  });
});

test("HalfCheetah's actuators: joint, gear, control limits, in the reference's order", async () => {
  await withModel((mj, m) => {
    const rows = table("actuator");
    assert.equal(rows.length, m.nu);
    rows.forEach(([label, joint, gear, ctrllimited, ctrlrange]) => {
      const id = Number(label.split(" ")[0]);
      const at = (a: unknown, i = id): number => (a as ArrayLike<number>)[i];
      assert.equal(mj.mj_id2name(m, mj.mjtObj.mjOBJ_JOINT.value, at(m.actuator_trnid, 2 * id)), joint, `actuator ${id}: joint`);
      matches([at(m.actuator_gear, 6 * id)], gear, `actuator ${id}: gear`);
      assert.deepEqual(slice(m.actuator_gear, id, 6).slice(1), [0, 0, 0, 0, 0], `actuator ${id}: gear acts on the joint alone`);
      assert.equal(at(m.actuator_ctrllimited), Number(ctrllimited), `actuator ${id}: ctrllimited`);
      matches(slice(m.actuator_ctrlrange, id, 2), ctrlrange, `actuator ${id}: ctrlrange`);
    });
  });
});
