/**
 * Child-process entry for value-bias rollouts (started by rollouts-parallel.ts): receives one `RolloutShare`,
 * starts the backend the parent uses, runs the share and replies once, then exits.
 */
import { initBackend } from "../backend/select";
import type { WorkerReply } from "./rollouts-parallel";
import { runShare, type RolloutShare } from "./rollouts-share";

process.once("message", (message) => {
  void (async (): Promise<void> => {
    let reply: WorkerReply;
    try {
      await initBackend();
      const { results, timing } = await runShare(message as RolloutShare);
      reply = { ok: true, results, timing };
    } catch (e) {
      reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    process.send?.(reply, undefined, {}, () => process.disconnect());
  })();
});
