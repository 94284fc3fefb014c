/**
 * `--redis URL`: redis://[user:password@]host[:port][/db] or rediss://… (TLS), turned into connection options,
 * and a quick reachability check so an unreachable server is an error in seconds, not a client retrying forever.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { ConfigError, IapoError } from "../core/errors";

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** The URL without its password, for messages and logs. */
  display: string;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`--redis must be a URL like redis://127.0.0.1:6379 or rediss://user:password@host:6380/0, got "${url}"`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new ConfigError(`--redis URL must start with redis:// or rediss:// (TLS), got "${u.protocol}//"`);
  const port = u.port === "" ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new ConfigError(`--redis URL database must be 0-15, got "${dbText}"`);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw new ConfigError(`--redis URL has no host: "${url}"`);
  return {
    host,
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    tls: u.protocol === "rediss:",
    display: `${u.protocol}//${u.username ? decodeURIComponent(u.username) + (u.password ? ":***" : "") + "@" : u.password ? ":***@" : ""}${u.host}/${db}`,
  };
}

/** ioredis options (what BullMQ takes) for the target; workers need maxRetriesPerRequest null. */
export function connectionOptions(t: RedisTarget): Record<string, unknown> {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    ...(t.tls ? { tls: { servername: t.host } } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Resolves once a TCP (or TLS) connection to the server opens; a clear error after `timeoutMs` or on refusal. */
export function probeRedis(t: RedisTarget, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = t.tls ? tls.connect({ host: t.host, port: t.port, servername: t.host }) : net.connect({ host: t.host, port: t.port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new IapoError(`cannot reach Redis at ${t.display}: ${why}; is redis-server running there, and is the URL right?`));
    };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs / 1000} s`), timeoutMs);
    socket.once(t.tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(err.code ?? err.message);
    });
  });
}
