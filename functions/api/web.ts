/**
 * The web UI's static files (built by Vite into `dist/web/`, see web/): served by the same app as
 * the API, without a token (they hold no data: every datum comes from the API, with the
 * caller's own authorization). Hashed assets are immutable; `index.html` is never cached and is
 * the answer to every page path (the UI routes in the browser). Pages carry a strict content
 * security policy: scripts and styles from this origin only, nothing inline, no frames.
 *
 * Page paths: `/ui/...` (an instance, or the hub's list of instances) and, on the hub,
 * `/instances/{owner}/{name}/ui/...` (that instance's views). Assets: `/ui/assets/...`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context, MiddlewareHandler } from "hono";
import { problem, problemResponse } from "./problem.js";

export const UI_PREFIX = "/ui";

/**
 * The content security policy of the UI's pages. `storage`: origins of object storage the
 * browser sends uploads to (presigned PUTs), which `connect-src` must name.
 */
export function pageCsp(storage: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // previews of images are blob: URLs of bytes fetched through the API
    "img-src 'self' blob: data:",
    `connect-src ${["'self'", ...storage].join(" ")}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join("; ");
}

/** Presigned URLs of AWS S3 (virtual-hosted and path style, every region). */
export const AWS_S3_SOURCE = "https://*.amazonaws.com";

/**
 * Where browsers upload to, as CSP sources: the origins of the S3-compatible endpoints given,
 * and AWS S3 itself when some storage is on AWS (no endpoint of its own).
 */
export function storageOrigins(endpoints: readonly (string | undefined)[], aws: boolean): string[] {
  const sources = endpoints.map(originSource).filter((s): s is string => s !== undefined);
  return [...new Set([...sources, ...(aws ? [AWS_S3_SOURCE] : [])])];
}

/** A CSP source for the origin of a URL (http(s) only), or undefined. */
export function originSource(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/** The built UI: a folder holding index.html and assets/. */
export interface WebFiles {
  /** Bytes of a file below the folder ("/"-separated, relative), if it is there. */
  read(path: string): Uint8Array | undefined;
}

/** The files of a built UI folder, read once and kept (they are small). */
export function folderFiles(root: string): WebFiles {
  const cache = new Map<string, Uint8Array | undefined>();
  return {
    read(path) {
      if (cache.has(path)) return cache.get(path);
      const full = normalize(join(root, path));
      let bytes: Uint8Array | undefined;
      if (full.startsWith(root + sep) && existsSync(full) && statSync(full).isFile()) {
        bytes = readFileSync(full);
      }
      cache.set(path, bytes);
      return bytes;
    },
  };
}

/**
 * Where the built UI is, looked for from a module's URL upwards: `web/` beside a Lambda bundle,
 * `dist/web/` of the package (the CLI, or sources run by tests). Undefined when not built.
 */
export function findWebRoot(from: string = import.meta.url): string | undefined {
  let dir = dirname(fileURLToPath(from));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, "web"), join(dir, "dist", "web")]) {
      if (existsSync(join(candidate, "index.html")) && existsSync(join(candidate, "assets"))) {
        return candidate;
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The built UI of this program, if it has one. (Bundled, `import.meta.url` is the bundle's or a
 * chunk's: the folder is found from there.)
 */
export function builtWebUi(): WebFiles | undefined {
  const root = findWebRoot(import.meta.url);
  return root ? folderFiles(root) : undefined;
}

/** Page paths of the UI: `/ui`, `/ui/...`, and an instance's on the hub. */
const PAGE = /^(?:\/instances\/[^/]+\/[^/]+)?\/ui(?:\/.*)?$/;
const ASSET = /^\/ui\/assets\/([A-Za-z0-9._-]+)$/;

/**
 * Answers the UI's paths (GET and HEAD) before any authentication; everything else goes on. `/`
 * sends a browser to the UI. Without a built UI, its paths answer a problem that says so.
 */
export function webUi(
  files: WebFiles | undefined,
  opts: { storageOrigins?: readonly string[] } = {},
): MiddlewareHandler {
  const csp = pageCsp(opts.storageOrigins);
  return async (c, next) => {
    const path = c.req.path;
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || !(path === "/" || PAGE.test(path))) {
      return next();
    }
    if (path === "/") return c.redirect(`${UI_PREFIX}/`, 302);
    if (!files) {
      return problemResponse(
        c,
        problem("not-found", "the web UI is not built here", "run `npm run build`"),
      );
    }
    if (path.startsWith(`${UI_PREFIX}/assets/`)) {
      // an asset is a plain file name; anything else there is no page either
      const asset = ASSET.exec(path)?.[1];
      const bytes = asset !== undefined ? files.read(`assets/${asset}`) : undefined;
      if (!bytes || asset === undefined) {
        return problemResponse(c, problem("not-found", "no such asset of the web UI"));
      }
      return send(c, bytes, asset, "public, max-age=31536000, immutable", csp);
    }
    // a top-level file of the build (favicon, robots.txt), else the page
    const top = /^\/ui\/([A-Za-z0-9._-]+\.(?:svg|ico|png|txt))$/.exec(path)?.[1];
    const file = top !== undefined ? files.read(top) : undefined;
    if (top !== undefined && file) return send(c, file, top, "no-cache", csp);
    const index = files.read("index.html");
    if (!index) return problemResponse(c, problem("not-found", "the web UI is not built here"));
    return send(c, index, "index.html", "no-cache", csp);
  };
}

function send(c: Context, bytes: Uint8Array, name: string, cache: string, csp: string): Response {
  const ext = /\.[a-z0-9]+$/i.exec(name)?.[0]?.toLowerCase() ?? "";
  const headers: Record<string, string> = {
    "content-type": TYPES[ext] ?? "application/octet-stream",
    "cache-control": cache,
    "x-content-type-options": "nosniff",
  };
  if (ext === ".html") {
    headers["content-security-policy"] = csp;
    headers["x-frame-options"] = "DENY";
    headers["referrer-policy"] = "no-referrer";
  }
  if (c.req.method === "HEAD") return c.body(null, 200, headers);
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, headers);
}
