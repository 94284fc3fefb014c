/**
 * Saving nested state (plain JSON values with typed arrays anywhere inside) to a folder: `state.json` holds
 * the structure, with each typed array replaced by a reference into `arrays.bin`. Typed arrays round-trip
 * bit-exactly (NaN payloads and -0 included), which exact resume needs; JSON numbers would not.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CorruptFileError } from "../core/errors";
import { fsyncDir, writeFileAtomic } from "./atomic";

type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Int8Array | Int16Array | Uint16Array;

const ARRAY_TYPES = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Uint8Array,
  Int8Array,
  Int16Array,
  Uint16Array,
} as const;
type ArrayTypeName = keyof typeof ARRAY_TYPES;

/** How a typed array appears in state.json: its type, and where its bytes are in arrays.bin. */
interface ArrayRef {
  $array: ArrayTypeName;
  offset: number;
  length: number;
}

function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** Splits a value into a JSON-able structure and the list of typed arrays it referenced. */
function encode(value: unknown, arrays: TypedArray[], offset: { bytes: number }): unknown {
  if (isTypedArray(value)) {
    const name = value.constructor.name as ArrayTypeName;
    if (!(name in ARRAY_TYPES)) throw new TypeError(`cannot save a ${name}`);
    // align every array to 8 bytes so it can be viewed in place on load
    offset.bytes = Math.ceil(offset.bytes / 8) * 8;
    const ref: ArrayRef = { $array: name, offset: offset.bytes, length: value.length };
    arrays.push(value);
    offset.bytes += value.byteLength;
    return ref;
  }
  if (Array.isArray(value)) return value.map((v) => encode(v, arrays, offset));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v, arrays, offset);
    return out;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function decode(value: unknown, bin: Buffer, file: string): unknown {
  if (Array.isArray(value)) return value.map((v) => decode(v, bin, file));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (typeof obj.$array === "string") {
      const ref = obj as unknown as ArrayRef;
      const Ctor = ARRAY_TYPES[ref.$array];
      if (Ctor === undefined) throw new CorruptFileError(`${file}: unknown array type ${ref.$array}`);
      const bytes = ref.length * Ctor.BYTES_PER_ELEMENT;
      if (ref.offset < 0 || ref.offset + bytes > bin.length) {
        throw new CorruptFileError(`${file}: array at offset ${ref.offset} (${bytes} bytes) runs past the end of arrays.bin (${bin.length} bytes)`);
      }
      // copy out of the file buffer so the result owns aligned memory
      const copy = new Uint8Array(bytes);
      copy.set(bin.subarray(ref.offset, ref.offset + bytes));
      return new Ctor(copy.buffer);
    }
    if (typeof obj.$number === "string") return Number(obj.$number);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = decode(v, bin, file);
    return out;
  }
  return value;
}

/** Writes `value` into folder `dir` (created; existing files replaced atomically, arrays.bin first). */
export function writeSnapshot(dir: string, value: unknown): void {
  const arrays: TypedArray[] = [];
  const offset = { bytes: 0 };
  const structure = encode(value, arrays, offset);
  const bin = Buffer.alloc(offset.bytes);
  let at = 0;
  for (const a of arrays) {
    at = Math.ceil(at / 8) * 8;
    bin.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, "arrays.bin"), bin);
  writeFileAtomic(path.join(dir, "state.json"), JSON.stringify({ format: "iapo-snapshot-1", bytes: bin.length, state: structure }));
  fsyncDir(dir);
}

/**
 * Writes `value` as folder `dir` all at once: into a temporary sibling, then renamed into place (replacing any
 * folder there), so a reader finds either no folder or a complete one — for snapshots that are kept, not pointed to.
 */
export function replaceSnapshot(dir: string, value: unknown): void {
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  writeSnapshot(tmp, value);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  fsyncDir(path.dirname(dir));
}

/** Reads what `writeSnapshot` wrote; a damaged folder fails with CorruptFileError naming the file. */
export function readSnapshot<T = unknown>(dir: string): T {
  const jsonFile = path.join(dir, "state.json");
  const binFile = path.join(dir, "arrays.bin");
  let doc: { format?: string; bytes?: number; state?: unknown };
  try {
    doc = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  } catch (err) {
    throw new CorruptFileError(`${jsonFile}: cannot read snapshot: ${(err as Error).message}`);
  }
  if (doc.format !== "iapo-snapshot-1") throw new CorruptFileError(`${jsonFile}: not an iapo snapshot (format ${doc.format})`);
  let bin: Buffer;
  try {
    bin = fs.readFileSync(binFile);
  } catch (err) {
    throw new CorruptFileError(`${binFile}: cannot read: ${(err as Error).message}`);
  }
  if (bin.length !== doc.bytes) throw new CorruptFileError(`${binFile}: ${bin.length} bytes, expected ${doc.bytes}`);
  return decode(doc.state, bin, binFile) as T;
}
