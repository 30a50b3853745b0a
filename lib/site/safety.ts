/**
 * Safety rules of the report site: which names may appear in a URL, how a path is resolved
 * strictly inside the results directory (symlinks included), and the security headers.
 * @module
 */
import { isAbsolute, join, relative, resolve, sep } from "node:path";

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$/;

/**
 * Whether `name` may name a sweep, run or file in a URL: letters, digits, `_ . + -`, not starting
 * with a dot, at most 200 characters. Rejects `..`, separators, `%`, NUL and spaces. Cost O(len).
 * @example
 * ```ts
 * import { isSafeName } from "./safety.ts";
 * if (!isSafeName("tiny-01234567") || isSafeName("..") || isSafeName("a/b")) throw new Error();
 * ```
 */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes("..");
}

/**
 * Resolves `segments` under the directory `realRoot` (already passed through `Deno.realPath`)
 * and returns the real path when it exists and lies strictly inside `realRoot` after following
 * every symlink; otherwise `null`. Each segment must pass {@linkcode isSafeName}. Cost: one
 * `realPath` call.
 * @example
 * ```ts
 * import { resolveInside } from "./safety.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.json`, "{}");
 * if ((await resolveInside(root, ["a.json"])) === null) throw new Error("inside");
 * if ((await resolveInside(root, [".."])) !== null) throw new Error("outside");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function resolveInside(realRoot: string, segments: string[]): Promise<string | null> {
  if (segments.some((s) => !isSafeName(s))) return null;
  const candidate = join(realRoot, ...segments);
  let real: string;
  try {
    real = await Deno.realPath(candidate);
  } catch {
    return null;
  }
  return isWithin(realRoot, real) ? real : null;
}

/**
 * Whether `path` is `root` itself or lies below it (both absolute, normalised).
 * @example
 * ```ts
 * import { isWithin } from "./safety.ts";
 * if (!isWithin("/a", "/a/b") || isWithin("/a", "/ab")) throw new Error();
 * ```
 */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.startsWith(sep));
}

/**
 * The Content-Security-Policy of a page: nothing by default, scripts only from the site itself
 * (no inline script at all), no inline styles, no framing.
 * @example
 * ```ts
 * import { contentSecurityPolicy } from "./safety.ts";
 * if (!contentSecurityPolicy().includes("script-src 'self';")) throw new Error();
 * ```
 */
export function contentSecurityPolicy(options: { meta?: boolean } = {}): string {
  const parts = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ];
  // frame-ancestors is ignored (and warned about) inside a <meta> policy.
  if (!options.meta) parts.push("frame-ancestors 'none'");
  return parts.join("; ");
}

/**
 * Security headers sent with every response.
 * @example
 * ```ts
 * import { securityHeaders } from "./safety.ts";
 * if (securityHeaders()["X-Content-Type-Options"] !== "nosniff") throw new Error();
 * ```
 */
export function securityHeaders(): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
  };
}
