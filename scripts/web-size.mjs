// What a browser downloads to show the web UI's first page: the JS that dist/web/index.html
// loads (its module script and the modules it preloads; chunks loaded on demand, such as the
// Parquet reader, are not counted), gzipped. Used by scripts/build.mjs (printed) and
// test/web-build.test.ts (held under the budget).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** Budget of the first load, gzipped. */
export const FIRST_LOAD_BUDGET = 250 * 1024;

/** @returns {{ files: { file: string, bytes: number, gzip: number }[], gzip: number }} */
export function firstLoadJs(webDir) {
  const html = readFileSync(join(webDir, "index.html"), "utf8");
  const refs = new Set();
  for (const m of html.matchAll(
    /<(?:script|link)\b[^>]*(?:src|href)="\/ui\/(assets\/[^"]+\.js)"/g,
  )) {
    refs.add(m[1]);
  }
  const files = [...refs].map((file) => {
    const bytes = readFileSync(join(webDir, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  return { files, gzip: files.reduce((sum, f) => sum + f.gzip, 0) };
}
