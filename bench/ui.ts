/**
 * Web UI benchmark: `npm run bench -- ui`.
 *
 * An instance with 100,000 artifacts (one multi-row INSERT ... SELECT, as bench/query.ts) plus
 * the UI tests' seeded files, served as `lamin serve` serves it, in headless Chromium (Debian's
 * /usr/bin/chromium). Printed, each next to the API call alone made from the same page:
 * - time to first render of the artifact table (50 rows) and of an artifact's page, cold (a new
 *   browser context: empty cache, every asset fetched) and warm (median of later visits);
 * - the table sorted by size (a column without an index: sorted per page), and the next keyset
 *   page of the table;
 * - the Parquet preview of a large file (LAMIN_BENCH_PARQUET_MB, default 1024 MB, 16 row groups):
 *   bytes read by its range requests (the footer, then by the offset index only the first
 *   pages of the first row group).
 * Target (issue 15): first renders under 1 s. Figures only: nothing here asserts a time.
 * Database: Postgres on DATABASE_URL's server when set (a database of its own, dropped at the
 * end), else PGlite; files in a temporary folder, removed at the end.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { fmtMs, median } from "./lib/common.js";

// the page's globals, as the functions that page.evaluate runs in the browser read them
declare const document: {
  querySelector(s: string): { textContent: string | null } | null;
};

const N = 100_000;
const WARM = 5;
const TARGET_MS = 1000;
const PARQUET_MB = Number(process.env.LAMIN_BENCH_PARQUET_MB ?? 1024);

const dir = mkdtempSync(join(tmpdir(), "lamin-ui-bench-"));
process.env.LAMIN_HOME = join(dir, "home");
process.env.LAMIN_CACHE_DIR = join(dir, "home", "cache");
delete process.env.LAMIN_INSTANCE;

const { sql } = await import("drizzle-orm");
const { initInstance } = await import("../core/setup.js");
const { dropDatabase } = await import("../core/db/postgres.js");
const { startApi } = await import("../cli/commands/serve.js");
const { builtWebUi } = await import("../functions/api/web.js");
const { launchChromium, watchedPage } = await import("../test/web/browser.js");
const { seed } = await import("../test/web/seed.js");
const { ensureBuilt } = await import("./lib/common.js");

ensureBuilt();
if (!builtWebUi()) throw new Error("dist/web is missing after the build");

let url: string | undefined;
if (process.env.DATABASE_URL) {
  const server = new URL(process.env.DATABASE_URL);
  server.pathname = `/lamin_bench_ui_${Date.now().toString(36)}`;
  url = server.toString();
}
const ln = await initInstance({
  storage: join(dir, "storage"),
  name: "ui-bench",
  ...(url ? { db: url } : {}),
});
const chromium = await launchChromium();
let api: Awaited<ReturnType<typeof startApi>> | undefined;
try {
  const t0 = performance.now();
  const { uids } = await seed(ln, join(dir, "files"));
  // 100k artifacts older than the seeded ones: the table's first page is the seeded files
  await ln.db.execute(sql`INSERT INTO lamindb_artifact
    (uid, key, storage_id, suffix, size, hash, _hash_type, _key_is_virtual, _overwrite_versions,
     created_by_id, created_at, updated_at)
    SELECT lpad(g::text, 16, '0') || '0000', 'bench/f' || g || '.csv', ${ln.storageRecord.id}, '.csv', g,
      left(md5(g::text), 22), 'md5', true, false, ${ln.user.id},
      now() - interval '1 day' - (${N} - g) * interval '1 second',
      now() - interval '1 day' - (${N} - g) * interval '1 second'
    FROM generate_series(1, ${N}) g`);
  await ln.db.execute(sql`ANALYZE`);
  const bigUid = await bigParquet();
  console.log(
    `set-up: ${N} artifacts + seeded files, ${PARQUET_MB} MB Parquet, on ${url ? "Postgres" : "PGlite"} in ${fmtMs(performance.now() - t0)}\n`,
  );

  api = await startApi(ln, { port: 0, host: "127.0.0.1" });
  const base = api.url;
  const w = await watchedPage(chromium);
  const { page } = w;
  await page.goto(api.uiUrl);
  await page.getByRole("heading", { name: "Recent artifacts" }).waitFor();

  /** ms from navigation to `ready` on page `p`. */
  const render = async (path: string, ready: (p: Page) => Promise<unknown>, p: Page = page) => {
    const start = performance.now();
    await p.goto(`${base}${path}`, { waitUntil: "commit" });
    await ready(p);
    return performance.now() - start;
  };
  /** The same, cold: a new browser context (empty cache) holding the session's cookie. */
  const coldRender = async (path: string, ready: (p: Page) => Promise<unknown>) => {
    const fresh = await watchedPage(chromium);
    await fresh.context.addCookies(await w.context.cookies());
    try {
      return await render(path, ready, fresh.page);
    } finally {
      problems.push(...fresh.problems);
      await fresh.close();
    }
  };
  const apiCall = async (path: string) =>
    page.evaluate(async (p) => {
      const start = performance.now();
      const res = await fetch(p, { headers: { "x-lamin-csrf": "1" } });
      await res.json();
      return performance.now() - start;
    }, path);
  const rows = (p: Page = page) => p.locator("table.grid tbody tr").nth(49).waitFor();
  const header = (name: string) => (p: Page) => p.getByRole("heading", { name }).waitFor();

  const csv = uids["raw/counts.csv"] as string;
  const problems: string[] = [];
  const table = [await coldRender("/ui/artifacts", rows)];
  const artifact = [await coldRender(`/ui/artifacts/${csv}`, header("raw/counts.csv"))];
  const tableApi: number[] = [];
  const artifactApi: number[] = [];
  for (let i = 0; i <= WARM; i++) {
    table.push(await render("/ui/artifacts", rows));
    tableApi.push(await apiCall("/artifacts?limit=50&order_by=-created_at"));
    artifact.push(await render(`/ui/artifacts/${csv}`, header("raw/counts.csv")));
    artifactApi.push(await apiCall(`/artifacts/${csv}`));
  }
  // sorted by a column without an index of its own: the whole table is sorted per page
  const bySize: number[] = [];
  const bySizeApi: number[] = [];
  for (let i = 0; i < WARM; i++) {
    bySize.push(await render("/ui/artifacts?sort=-size", rows));
    bySizeApi.push(await apiCall("/artifacts?limit=50&order_by=-size"));
  }
  // the next page of the table (keyset: as fast on page 2 as on page 2,000)
  await page.goto(`${base}/ui/artifacts`);
  await rows();
  const next: number[] = [];
  for (let i = 0; i < WARM; i++) {
    const first = await page.locator("table.grid tbody tr").first().textContent();
    const start = performance.now();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.waitForFunction(
      (f) => document.querySelector("table.grid tbody tr")?.textContent !== f,
      first,
    );
    await rows();
    next.push(performance.now() - start);
  }

  // the big Parquet file's preview
  const ranges: [number, number][] = [];
  page.on("request", (r) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(r.headers().range ?? "");
    if (m && r.url().includes(bigUid)) ranges.push([Number(m[1]), Number(m[2])]);
  });
  const preview = await render(`/ui/artifacts/${bigUid}`, () =>
    page.getByTestId("preview-table").locator("tbody tr").nth(19).waitFor({ timeout: 60_000 }),
  );
  const read = ranges.reduce((s, [a, b]) => s + b - a + 1, 0);
  const bigSize = (await ln.artifacts.get(bigUid)).size ?? 0;

  const line = (what: string, ui: number[], apiMs?: number[]) => {
    const cold = ui[0] as number;
    // the first warm visit still fetches what the cold context cached for itself
    const warm = median(ui.slice(2));
    const verdict = Math.max(cold, warm) < TARGET_MS ? "ok" : "OVER";
    console.log(
      `${what.padEnd(34)} cold ${fmtMs(cold).padStart(8)}  warm p50 ${fmtMs(warm).padStart(8)}${
        apiMs ? `  API alone p50 ${fmtMs(median(apiMs)).padStart(8)}` : ""
      }  (< ${TARGET_MS} ms: ${verdict})`,
    );
  };
  console.log(`at ${N} artifacts, headless Chromium, page and API from the same page:`);
  line("artifact table, first 50 rows", table, tableApi);
  line("artifact page (header)", artifact, artifactApi);
  console.log(
    `${"artifact table sorted by size".padEnd(34)} warm p50 ${fmtMs(median(bySize)).padStart(8)}  API alone p50 ${fmtMs(median(bySizeApi)).padStart(8)}`,
  );
  console.log(`${"next page of the table".padEnd(34)} p50 ${fmtMs(median(next))}`);
  console.log(
    `Parquet preview of ${(bigSize / 1e6).toFixed(0)} MB: ${fmtMs(preview)} to 20 rows; read ${(read / 1e6).toFixed(2)} MB in ${ranges.length} range requests (${((read / bigSize) * 100).toFixed(3)}% of the file: the footer and the first pages of the first row group)`,
  );
  problems.push(...w.problems);
  if (problems.length > 0) throw new Error(`the UI reported problems:\n${problems.join("\n")}`);
  await w.close();
} finally {
  await chromium.close();
  api?.close();
  await ln.close();
  if (url) await dropDatabase(url).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

/** A Parquet file of about PARQUET_MB, in 16 row groups, saved as an artifact; its uid. */
async function bigParquet(): Promise<string> {
  const { ParquetWriter, fileWriter, schemaFromColumnData } = await import("hyparquet-writer");
  const path = join(dir, "big.parquet");
  const groups = 16;
  // ~110 bytes a row (a 100-character text, an int, a double), uncompressed
  const rowsPerGroup = Math.max(1000, Math.round((PARQUET_MB * 1e6) / groups / 110));
  const pool = Array.from({ length: 997 }, (_, i) =>
    Array.from({ length: 90 }, (_, k) => String.fromCharCode(97 + ((i * 7 + k * 13) % 26))).join(
      "",
    ),
  );
  const group = (g: number) => {
    const ids = Array.from({ length: rowsPerGroup }, (_, i) => g * rowsPerGroup + i);
    return [
      {
        name: "text",
        data: ids.map((i) => `${pool[i % pool.length]}${i}`),
        type: "STRING" as const,
      },
      { name: "n", data: ids.map((i) => i), type: "INT32" as const },
      { name: "x", data: ids.map((i) => i / 7), type: "DOUBLE" as const },
    ];
  };
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: schemaFromColumnData({ columnData: group(0) }),
    codec: "UNCOMPRESSED",
  });
  for (let g = 0; g < groups; g++) {
    await writer.write({ columnData: group(g), rowGroupSize: rowsPerGroup, pageSize: 256 * 1024 });
  }
  writer.finish();
  console.log(`wrote ${(statSync(path).size / 1e6).toFixed(0)} MB of Parquet`);
  const { artifact } = await ln.artifacts.save(path, { key: "big/cells.parquet" });
  return artifact.uid;
}
