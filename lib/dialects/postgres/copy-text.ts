// PostgreSQL COPY text format, as COPY ... TO STDOUT writes it: one row per line, fields separated by tabs, NULL as
// \N, and backslash escapes for backslash, newline, carriage return, tab, backspace, form feed and vertical tab
// (so a raw newline always ends a row and a raw tab always ends a field). Only the fields being changed are decoded.
import { StringDecoder } from "node:string_decoder";
import { Transform, type TransformCallback } from "node:stream";

const UNESCAPE: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

export function decodeField(raw: string): string | null {
  if (raw === "\\N") return null;
  if (!raw.includes("\\")) return raw;
  return raw.replace(/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return UNESCAPE[e] ?? e;
  });
}

export function encodeField(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  return String(v).replace(/[\\\n\r\t\b\f\v]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v" })[c]!);
}

/** Rewrites the fields at `columns` of every row with `map` (which gets and returns their decoded values). */
export class CopyTextMapper extends Transform {
  private decoder = new StringDecoder("utf8");
  private rest = "";

  constructor(
    private columns: number[],
    private mapValues: (values: unknown[]) => unknown[],
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    const text = this.rest + this.decoder.write(chunk);
    const end = text.lastIndexOf("\n");
    if (end === -1) {
      this.rest = text;
      return cb();
    }
    this.rest = text.slice(end + 1);
    const lines = text.slice(0, end).split("\n");
    for (let i = 0; i < lines.length; i++) lines[i] = this.row(lines[i]);
    cb(null, Buffer.from(lines.join("\n") + "\n", "utf8"));
  }

  override _flush(cb: TransformCallback) {
    const tail = this.rest + this.decoder.end();
    cb(null, tail ? Buffer.from(this.row(tail), "utf8") : undefined);
  }

  private row(line: string): string {
    const fields = line.split("\t");
    const out = this.mapValues(this.columns.map((c) => decodeField(fields[c])));
    this.columns.forEach((c, i) => (fields[c] = encodeField(out[i])));
    return fields.join("\t");
  }
}
