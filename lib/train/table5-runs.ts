/**
 * Fig 5 shows each optimizer on each task with the better of the two Q architectures (Appendix A.2, Table 5);
 * Fig 10 compares both. Training the grid over both architectures once and picking Table 5's runs out of it
 * gives both figures without training any run twice.
 */
import { CorruptFileError } from "../core/errors";
import { flattenConfig } from "../analysis/aggregate";
import { runIdentity } from "../analysis/curves";
import { qArchitectureFor } from "../presets/paper-tables";
import type { Run } from "../runs/run-dir";

/** The runs whose Q architecture is Table 5's choice for their task and optimizer (architecture A off the table). */
export function runsWithTable5Architecture<R extends Run>(runs: readonly R[]): R[] {
  return runs.filter((run) => {
    const { env, optimizer } = runIdentity(run);
    const q = flattenConfig(run.config)["agent.qArchitecture"];
    if (q !== "A" && q !== "B") throw new CorruptFileError(`${run.dir}/run.json: config has no Q architecture (agent.qArchitecture "A" or "B"), got ${JSON.stringify(q)}`);
    return q === qArchitectureFor(env, optimizer === "iterative" ? "iterative" : "direct");
  });
}
