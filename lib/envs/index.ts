// The public API of lib/envs.
export type { Env, EnvOptions, EnvState, EpisodePhase, ResetResult, StepResult } from "./types";
export { ActionError, EnvPhaseError, EnvStateError } from "./errors";
export { ENV_NAMES, MUJOCO_ENV_NAMES, SMALL_ENV_NAMES, isEnvName, makeEnv, makeEnvCopies, type EnvName } from "./registry";
export { Pendulum, PENDULUM, normalizeAngle } from "./classic/pendulum";
export { PointReach, POINT_REACH_STEP, pointReachOptimalAction } from "./classic/pointReach";
export { MujocoEnv, type MujocoEnvOptions } from "./mujoco/mujocoEnv";
export { MUJOCO_TASKS, type MujocoTaskSpec } from "./mujoco/tasks";
export { loadMujoco, liveModelCount } from "./mujoco/runtime";
export type { Scene, SceneGeom, SceneView, GeomShape } from "./render/scene";
export { renderFrameSvg, renderFilmstripSvg, type FrameSvgOptions, type FilmstripSvgOptions } from "./render/svg";
export { recordFrames, type RecordOptions } from "./render/record";
export { toEnvAction } from "./actions";
