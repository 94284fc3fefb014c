/**
 * A throwaway redis-server for tests and benchmarks: loopback only, a free port, no persistence, in its own
 * process group so `stop()` ends it whatever happens. Not for production queues (see docs/sweeps.md).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { IapoError } from "../core/errors";

export interface LocalRedis {
  url: string;
  port: number;
  stop(): void;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port }, () => {
      sock.end();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });
}

/** Starts redis-server on 127.0.0.1; resolves once it accepts connections. */
export async function startLocalRedis(): Promise<LocalRedis> {
  const port = await freeLoopbackPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-redis-"));
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  proc.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  let spawnError: Error | null = null;
  proc.on("error", (err) => (spawnError = err));
  const stop = (): void => {
    try {
      process.kill(-proc.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (spawnError || proc.exitCode !== null || Date.now() > deadline) {
      stop();
      throw new IapoError(`redis-server did not start on 127.0.0.1:${port}: ${spawnError ? (spawnError as Error).message : output.trim()} (Debian: apt-get install redis-server)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}
