export { IapoError, ConfigError, UnknownNameError, NonFiniteError, CorruptFileError } from "./errors";
export { SCALES, SCALE_ENV_VAR, activeScale, parseScale, isScale, byScale, type Scale } from "./scale";
export { Rng, deriveSeed, type RngState } from "./rng";
export { projectRoot, defaultRunsDir } from "./paths";
export { formatDuration, formatProgressLine, type Progress, type ProgressListener } from "./progress";
export { mean, meanAndStd } from "./stats";
