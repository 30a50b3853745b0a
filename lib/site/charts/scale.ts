/**
 * Scales, ticks, colours and number formatting shared by the report's SVG charts. Pure functions
 * with no Deno or DOM API, so the same code runs on the server and inside islands.
 * @module
 */

/** A function from data units to pixels, with the domain it was built for. */
export interface Scale {
  (value: number): number;
  domain: [number, number];
  log: boolean;
}

/**
 * Builds a linear or base-10 logarithmic scale mapping `[d0, d1]` onto `[r0, r1]`.
 * Cost O(1) per call.
 * @throws RangeError when a log scale gets a non-positive bound or the domain is not finite.
 * @example
 * ```ts
 * import { makeScale } from "./scale.ts";
 * const s = makeScale([0, 10], [0, 100]);
 * if (s(5) !== 50) throw new Error("linear scale");
 * ```
 */
export function makeScale(
  domain: [number, number],
  range: [number, number],
  options: { log?: boolean } = {},
): Scale {
  const log = options.log ?? false;
  let [d0, d1] = domain;
  if (!Number.isFinite(d0) || !Number.isFinite(d1)) {
    throw new RangeError(`scale domain [${d0}, ${d1}] is not finite; pass finite bounds.`);
  }
  if (log && (d0 <= 0 || d1 <= 0)) {
    throw new RangeError(`log scale domain [${d0}, ${d1}] must be positive; use a linear scale.`);
  }
  if (d0 === d1) {
    const pad = log ? 10 : (Math.abs(d0) > 0 ? Math.abs(d0) * 0.1 : 1);
    d0 = log ? d0 / pad : d0 - pad;
    d1 = log ? d1 * pad : d1 + pad;
  }
  const [r0, r1] = range;
  const f0 = log ? Math.log10(d0) : d0;
  const f1 = log ? Math.log10(d1) : d1;
  const fn = ((v: number) => {
    const x = log ? Math.log10(v) : v;
    return r0 + ((x - f0) / (f1 - f0)) * (r1 - r0);
  }) as Scale;
  fn.domain = [d0, d1];
  fn.log = log;
  return fn;
}

/**
 * Round tick values covering `[lo, hi]`: about `count` multiples of 1, 2 or 5 × 10^n, or the
 * powers of ten inside the range for a log axis. Cost O(count).
 * @example
 * ```ts
 * import { ticks } from "./scale.ts";
 * const t = ticks(0, 1, 5);
 * if (t[0] !== 0 || t[t.length - 1] !== 1) throw new Error("ticks");
 * ```
 */
export function ticks(lo: number, hi: number, count = 5, log = false): number[] {
  if (log) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.ceil(Math.log10(hi));
    const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
    const step = Math.max(1, Math.ceil((b - a) / 8));
    const powers: number[] = [];
    for (let e = a; e <= b; e += step) if (inside(10 ** e)) powers.push(10 ** e);
    if (powers.length >= 2) return powers;
    const out: number[] = [];
    for (let e = a; e <= b; e++) {
      for (const m of [1, 2, 5]) if (inside(m * 10 ** e)) out.push(m * 10 ** e);
    }
    return out.length >= 2 ? out : [lo, hi];
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const out: number[] = [];
  const start = Math.ceil(lo / step - 1e-9);
  const end = Math.floor(hi / step + 1e-9);
  for (let i = start; i <= end; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/**
 * Formats a number for a chart label: fixed digits for ordinary magnitudes, exponent notation for
 * very small or large ones, "–" for null or non-finite values.
 * @example
 * ```ts
 * import { formatNumber } from "./scale.ts";
 * if (formatNumber(0.12345, 3) !== "0.123") throw new Error("format");
 * ```
 */
export function formatNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, digits - 1)).replace("e+", "e");
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toFixed(digits);
}

/** A formatter of one table column: the same notation for every value it is given. */
export type NumberFormat = (v: number | null | undefined) => string;

/** Decimals a fixed-notation column may grow to before it switches to exponents. */
export const MAX_FIXED_DECIMALS = 6;

/**
 * One number format for a whole column (or table), picked from the range of its `values`, so a
 * column never mixes `0.123` with `4.00e-4`: integers (all values whole) grouped as `12,345`;
 * otherwise fixed notation with `digits` decimals, or with as many more as the smallest nonzero
 * magnitude needs to show two significant digits (up to {@linkcode MAX_FIXED_DECIMALS}); and
 * exponent notation (`digits` significant digits) for every value when that is not enough or the
 * largest magnitude reaches 1e5. A value below 1e-12 of the largest magnitude is rounding residue
 * and prints as zero. Null and non-finite values print "–" in every format.
 * Cost: one pass over `values`.
 * @example
 * ```ts
 * import { columnFormat } from "./scale.ts";
 * const f = columnFormat([0.5, 0.0004]);
 * if (f(0.5) !== "0.50000" || f(0.0004) !== "0.00040") throw new Error(f(0.5));
 * const g = columnFormat([0.5, 1e-9]);
 * if (g(0.5) !== "5.00e-1" || g(1e-9) !== "1.00e-9") throw new Error(g(0.5));
 * if (columnFormat([2, 116280])(116280) !== "116,280") throw new Error("integers");
 * if (columnFormat([0.25, -2.7e-17])(-2.7e-17) !== "0.000") throw new Error("residue");
 * ```
 */
export function columnFormat(
  values: Iterable<number | null | undefined>,
  digits = 3,
): NumberFormat {
  const finite: number[] = [];
  let maxAbs = 0, whole = true;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    finite.push(v);
    if (!Number.isInteger(v)) whole = false;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  // Rounding residue of a zero (the sphere's median −2.7e-17 beside 0.2) is zero, not a
  // magnitude the whole column must show.
  const noise = maxAbs * ROUNDING_RESIDUE;
  let minAbs = Infinity;
  for (const v of finite) if (Math.abs(v) > noise) minAbs = Math.min(minAbs, Math.abs(v));
  const shown = (v: number | null | undefined): v is number =>
    v !== null && v !== undefined && Number.isFinite(v);
  const zeroed = (v: number) => (Math.abs(v) > noise ? v : 0);
  if (finite.length > 0 && whole && maxAbs < 1e15) {
    return (v) => shown(v) ? v.toLocaleString("en-US", { maximumFractionDigits: digits }) : "–";
  }
  const need = minAbs === Infinity ? digits : Math.max(digits, Math.ceil(-Math.log10(minAbs)) + 1);
  if (maxAbs >= 1e5 || need > MAX_FIXED_DECIMALS) {
    const sig = Math.max(0, digits - 1);
    return (v) => !shown(v) ? "–" : zeroed(v) === 0 ? "0" : v.toExponential(sig).replace("e+", "e");
  }
  return (v) => shown(v) ? zeroed(v).toFixed(need) : "–";
}

/** Below this fraction of a column's largest magnitude, a value is rounding residue of zero. */
const ROUNDING_RESIDUE = 1e-12;

/** The Okabe–Ito palette (distinguishable with colour-vision deficiencies). */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];

/**
 * The palette colour for series `i` (cycling).
 * @example
 * ```ts
 * import { PALETTE, seriesColor } from "./scale.ts";
 * if (seriesColor(PALETTE.length) !== seriesColor(0)) throw new Error("cycles");
 * ```
 */
export function seriesColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length] ?? "#000000";
}

const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/**
 * Viridis colour for `t` in [0, 1] (clamped), as `#rrggbb`, by linear interpolation between ten
 * stops. Also returns whether dark text reads better on it.
 * @example
 * ```ts
 * import { viridis } from "./scale.ts";
 * if (viridis(0).color !== "#440154") throw new Error("viridis");
 * ```
 */
export function viridis(t: number): { color: string; darkText: boolean } {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i] ?? [0, 0, 0];
  const b = VIRIDIS[i + 1] ?? a;
  const rgb = [0, 1, 2].map((c) => Math.round((a[c] ?? 0) + f * ((b[c] ?? 0) - (a[c] ?? 0))));
  const hex = "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
  const lum = 0.2126 * (rgb[0] ?? 0) + 0.7152 * (rgb[1] ?? 0) + 0.0722 * (rgb[2] ?? 0);
  return { color: hex, darkText: lum > 140 };
}

/**
 * A colour ramp for the i-th of n widths of one family: `hex` mixed with white, lightest for the
 * smallest width (i = 0) and `hex` itself for the largest, so widths read in order.
 * @example
 * ```ts
 * import { rampColor } from "./scale.ts";
 * if (rampColor("#0072B2", 1, 2) !== "#0072b2" || rampColor("#000000", 0, 3) !== "#999999") throw new Error();
 * ```
 */
export function rampColor(hex: string, i: number, n: number): string {
  const t = n <= 1 ? 1 : 0.4 + 0.6 * (i / (n - 1));
  const rgb = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  return "#" + rgb.map((c) => Math.round(255 - t * (255 - c)).toString(16).padStart(2, "0"))
    .join("");
}
