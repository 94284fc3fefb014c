/**
 * Reading a sweep file from disk. Kept apart from the schema (spec.ts) so that a run's process, which only checks
 * jobs, does not load the YAML parser.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { ConfigError } from "../core/errors";
import { validateSweep, type SweepFile } from "./spec";

/** Reads and checks a sweep file (`.json`, `.yaml` or `.yml`). */
export function loadSweepFile(file: string): SweepFile {
  const where = path.basename(file);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read sweep file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(file) ? YAML.parse(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`sweep file ${file} is not valid ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"}: ${(err as Error).message}`);
  }
  return validateSweep(doc, where);
}
