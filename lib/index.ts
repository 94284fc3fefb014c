/**
 * iapo: the public API that notebooks and scripts import (`import { ... } from "iapo"`).
 * A reviewed list of exports, grouped in the order data flows:
 * core → backend → envs → nn → policy → agents → runs → analysis → presets → train → sweeps → plots.
 */
export * from "./core";
export * from "./backend";
export * from "./envs";
export * from "./nn";
export * from "./policy";
export * from "./agents";
export * from "./runs";
export * from "./analysis";
export * from "./presets";
export * from "./train";
export * from "./sweeps";
export * from "./plots";
