/**
 * CSV conversion of the JSON files behind the charts. Arrays of flat records become tables (one
 * row per record); anything else becomes a long table of `path,value` rows, one per leaf, where
 * `path` is a JSON Pointer (RFC 6901). Both are lossless for numbers, strings, booleans and null.
 * @module
 */

/**
 * One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; a leading `=`, `+`,
 * `-` or `@` (spreadsheet formula) is prefixed with `'` inside quotes unless the field is a number.
 * @example
 * ```ts
 * import { csvField } from "./csv.ts";
 * if (csvField('a,"b"') !== '"a,""b"""') throw new Error();
 * if (csvField(-1.5) !== "-1.5") throw new Error();
 * ```
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return v ? "true" : "false";
  let s = typeof v === "string" ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function isFlatRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    Object.values(v).every((x) => x === null || typeof x !== "object");
}

function pointerPart(key: string | number): string {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * Converts a parsed JSON value to CSV text (CRLF line ends, header row first). Cost O(size).
 * @example
 * ```ts
 * import { jsonToCsv } from "./csv.ts";
 * if (jsonToCsv([{ a: 1, b: "x" }]) !== "a,b\r\n1,x\r\n") throw new Error();
 * if (!jsonToCsv({ m: [[1, 2]] }).includes("/m/0/1,2")) throw new Error();
 * ```
 */
export function jsonToCsv(value: unknown): string {
  if (Array.isArray(value) && value.length > 0 && value.every(isFlatRecord)) {
    const cols: string[] = [];
    for (const r of value) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    const lines = [cols.map(csvField).join(",")];
    for (const r of value) lines.push(cols.map((c) => csvField(r[c])).join(","));
    return lines.join("\r\n") + "\r\n";
  }
  const lines = ["path,value"];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      if (v.length === 0) lines.push(`${csvField(path)},[]`);
      v.forEach((x, i) => walk(x, `${path}/${i}`));
    } else if (typeof v === "object" && v !== null) {
      const entries = Object.entries(v);
      if (entries.length === 0) lines.push(`${csvField(path)},{}`);
      for (const [k, x] of entries) walk(x, `${path}/${pointerPart(k)}`);
    } else {
      lines.push(`${csvField(path === "" ? "/" : path)},${csvField(v)}`);
    }
  };
  walk(value, "");
  return lines.join("\r\n") + "\r\n";
}
