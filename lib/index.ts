/**
 * iapo: the public API that notebooks and scripts import (`import { ... } from "iapo"`).
 * A reviewed list of exports, grouped in the order data flows: core → backend → envs → agents → runs →
 * analysis → plots.
 */
export * from "./core";
export * from "./backend";
export * from "./plots";
