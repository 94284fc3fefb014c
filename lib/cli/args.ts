/** Reading `--flag value` command lines, shared by the subcommands. */
import { IapoError } from "../core/errors";

/**
 * Calls `handle` for each argument in order; `value()` consumes and returns the argument after it, failing when
 * there is none (or the next one is itself a flag); `peek()` looks at the next argument without consuming it
 * (for flags whose value is optional).
 */
export function eachArgument(argv: readonly string[], handle: (arg: string, value: () => string, peek: () => string | undefined) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    handle(
      arg,
      () => {
        const v = argv[++i];
        if (v === undefined || v.startsWith("--")) throw new IapoError(`${arg} needs a value`);
        return v;
      },
      () => argv[i + 1],
    );
  }
}

/** An integer flag value of at least `min`. */
export function integer(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new IapoError(`${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

/** `field=value` with the value read as JSON, or as a string when it is a bare word (e.g. qArchitecture=B). */
export function parseSetting(flag: string, kv: string): [string, unknown] {
  const eq = kv.indexOf("=");
  if (eq <= 0) throw new IapoError(`${flag} expects field=value, got "${kv}"`);
  const raw = kv.slice(eq + 1);
  try {
    return [kv.slice(0, eq), JSON.parse(raw)];
  } catch {
    return [kv.slice(0, eq), raw];
  }
}

/** True (after printing the usage) when argv asks for help: a command then returns 0 without doing anything. */
export function printedHelp(argv: readonly string[], usage: string): boolean {
  if (!argv.includes("--help") && !argv.includes("-h")) return false;
  console.log(`usage: ${usage}`);
  return true;
}
