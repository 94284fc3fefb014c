/** A bad IAPO_PACKED_GEMM stops the backend choice with an error naming it, instead of quietly falling back. */
import { test } from "node:test";
import assert from "node:assert/strict";
process.env.IAPO_PACKED_GEMM = "yes"; // before anything loads the addon
import { initBackend } from "../../lib/backend/select";
import { loadNative } from "../../lib/backend/native";
import { ConfigError } from "../../lib/core/errors";

test("initBackend refuses an IAPO_PACKED_GEMM other than 0, 1, avx2 or avx512", async () => {
  await assert.rejects(initBackend({}), (err: unknown) => err instanceof ConfigError && /IAPO_PACKED_GEMM must be 0, 1, avx2 or avx512, got "yes"/.test(err.message));
  assert.throws(() => loadNative(), /IAPO_PACKED_GEMM/, "and so does loading the addon itself");
});
