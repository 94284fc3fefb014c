/**
 * Child-process entry for value-bias rollouts (started by rollouts-parallel.ts): for each `WorkerRequest` it
 * receives, switches to the parent's backend, runs the share and replies. Exits when the parent's channel closes.
 */
import { backendInfo, initBackend, useBackend } from "../backend/select";
import type { WorkerReply, WorkerRequest } from "./rollouts-parallel";
import { runShare } from "./rollouts-share";

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  try {
    if (request.backend === null) await initBackend();
    else if (backendInfo()?.name !== request.backend) await useBackend(request.backend, "the parent process's backend");
    const { results, timing } = await runShare(request.share);
    return { ok: true, results, timing };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

// one request at a time: the parent sends the next only after the reply
process.on("message", (message) => {
  void handle(message as WorkerRequest).then((reply) => process.send?.(reply));
});
process.on("disconnect", () => process.exit(0));
