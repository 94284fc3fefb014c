export {
  TABLE5_Q_ARCHITECTURE, TABLE6, TABLE7_8, PAPER_TASKS, PAPER_ITERATIONS, envBaseName, isPaperTask, qArchitectureFor, paperBetaTrain, defaultInputNormalization,
  type PaperTask,
} from "./paper-tables";
export { SCHEDULE_FIELDS, SCHEDULE_PRESETS, defaultSchedule, fitSchedule, type RunSchedule } from "./schedule";
export {
  PRESET_NAMES, DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESET_OPTIONS, SAC_SCALE_PRESETS, SAMPLES_FOR_J, isPresetName, checkPresetName,
  presetSacConfig, presetModelBased, defaultSacConfig, presetSchedule, resolvePreset,
  type PresetName, type FidelityField, type PresetRequest, type PresetConfig,
} from "./presets";
export { SAC_ANCHORS_1M, type ReturnAnchor } from "./sac-anchors";
