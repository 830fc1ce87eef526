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

const ESCAPED: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v" };
const NEEDS_ESCAPE = /[\\\n\r\t\b\f\v]/;
const ESCAPES = /[\\\n\r\t\b\f\v]/g;

export function encodeField(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const s = typeof v === "string" ? v : String(v);
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, (c) => ESCAPED[c]) : s;
}

/** Rewrites the fields at `columns` of every row with `map` (which gets and returns their decoded values). Only
 *  those fields are sliced out of the text: everything between them is passed on as one piece. */
export class CopyTextMapper extends Transform {
  private decoder = new StringDecoder("utf8");
  private rest = "";
  /** The masked columns in line order, and where each one's value sits in `map`'s arguments. */
  private order: number[];
  private slot: number[];
  private values: unknown[];

  constructor(
    columns: number[],
    private mapValues: (values: unknown[]) => unknown[],
  ) {
    super();
    this.order = [...columns].sort((a, b) => a - b);
    this.slot = this.order.map((c) => columns.indexOf(c));
    this.values = new Array(columns.length);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    const text = this.rest + this.decoder.write(chunk);
    const end = text.lastIndexOf("\n");
    if (end === -1) {
      this.rest = text;
      return cb();
    }
    this.rest = text.slice(end + 1);
    cb(null, Buffer.from(this.rows(text, end + 1), "utf8"));
  }

  override _flush(cb: TransformCallback) {
    const tail = this.rest + this.decoder.end();
    cb(null, tail ? Buffer.from(this.rows(tail, tail.length), "utf8") : undefined);
  }

  /** The rows of text[0..end) (whole lines), rewritten. */
  private rows(text: string, end: number): string {
    const parts: string[] = [];
    const { order, slot, values } = this;
    const starts = new Array<number>(order.length);
    const ends = new Array<number>(order.length);
    let copied = 0; // text before this has been passed on
    let lineStart = 0;
    while (lineStart < end) {
      let lineEnd = text.indexOf("\n", lineStart);
      if (lineEnd === -1 || lineEnd > end) lineEnd = end;
      let at = lineStart;
      let col = 0;
      for (let i = 0; i < order.length; i++) {
        for (; col < order[i]; col++) at = text.indexOf("\t", at) + 1;
        let fieldEnd = text.indexOf("\t", at);
        if (fieldEnd === -1 || fieldEnd > lineEnd) fieldEnd = lineEnd;
        starts[i] = at;
        ends[i] = fieldEnd;
        values[slot[i]] = decodeField(text.slice(at, fieldEnd));
      }
      const out = this.mapValues(values);
      for (let i = 0; i < order.length; i++) {
        parts.push(text.slice(copied, starts[i]), encodeField(out[slot[i]]));
        copied = ends[i];
      }
      lineStart = lineEnd + 1;
    }
    parts.push(text.slice(copied, end));
    return parts.join("");
  }
}
