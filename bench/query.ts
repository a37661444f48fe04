/**
 * Query-by-features benchmark: `npx tsx bench/query.ts`.
 *
 * 100,000 artifacts on Postgres, each with 3 feature values (temperature: float, n_cells: int,
 * donor: str) and 2 labels (cell_type, tissue: cat[ULabel]), set up with multi-row INSERT ...
 * SELECT generate_series. Then each query runs through the SDK (`artifacts.list({ features })`,
 * one page of 100) and as hand-written SQL on the same connection, alternating, and the p50s are
 * compared. Targets (issue 8): SDK within 2x of the hand-written SQL and under 20 ms p50.
 *
 * Its own database on DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)'s
 * server, dropped at the end, with a temporary LAMIN_HOME.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmtMs, median, quantile, row } from "./lib/common.js";

const N = 100_000;
const RUNS = 60;
const TARGET_MS = 20;
const TARGET_RATIO = 2;

const dir = mkdtempSync(join(tmpdir(), "lamin-query-bench-"));
process.env.LAMIN_HOME = join(dir, "home");
process.env.LAMIN_CACHE_DIR = join(dir, "home", "cache");
delete process.env.LAMIN_INSTANCE;

const core = await import("../core/index.js");
const { sql } = await import("drizzle-orm");
const { queryRows } = await import("../core/db/client.js");
const { dropDatabase } = await import("../core/db/postgres.js");
const { hashString, pythonFloatRepr } = await import("../core/hash.js");

const server = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
server.pathname = `/lamin_bench_query_${Date.now().toString(36)}`;
const url = server.toString();

let failed = false;
const ln = await core.init({ storage: join(dir, "storage"), name: "query-bench", db: url });
try {
  const db = ln.db;
  const exec = (q: ReturnType<typeof sql>) => db.execute(q);
  const t0 = performance.now();

  // features and labels through the SDK (a handful of rows)
  const fid: Record<string, number> = {};
  for (const [name, dtype] of [
    ["temperature", "float"],
    ["n_cells", "int"],
    ["donor", "str"],
    ["cell_type", "cat[ULabel]"],
    ["tissue", "cat[ULabel]"],
  ] as const) {
    await ln.features.create({ name, dtype });
    const [f] = await queryRows<{ id: number }>(
      db,
      sql`SELECT id FROM lamindb_feature WHERE name = ${name}`,
    );
    fid[name] = Number(f?.id);
  }
  for (let i = 0; i < 20; i++) await ln.ulabels.create({ name: `CT_${i}` });
  for (let i = 0; i < 10; i++) await ln.ulabels.create({ name: `TS_${i}` });
  const userId = ln.user.id;
  const storageId = ln.storageRecord.id;

  // 100k artifacts: one multi-row INSERT ... SELECT generate_series
  await exec(sql`INSERT INTO lamindb_artifact
    (uid, key, storage_id, suffix, size, hash, _hash_type, _key_is_virtual, _overwrite_versions,
     created_by_id, created_at, updated_at)
    SELECT lpad(g::text, 16, '0') || '0000', 'bench/f' || g || '.csv', ${storageId}, '.csv', g,
      left(md5(g::text), 22), 'md5', true, false, ${userId},
      now() - (${N} - g) * interval '1 second', now() - (${N} - g) * interval '1 second'
    FROM generate_series(1, ${N}) g`);

  // distinct JsonValues with LaminDB's hashes: temperature 20.0 .. 69.5, n_cells 0 .. 999, donors
  const jv: [number, unknown, string][] = [];
  for (let k = 0; k < 100; k++) {
    const v = 20 + k * 0.5;
    jv.push([fid.temperature as number, v, hashString(pythonFloatRepr(v))]);
  }
  for (let k = 0; k < 1000; k++) jv.push([fid.n_cells as number, k, hashString(String(k))]);
  for (let k = 0; k < 50; k++)
    jv.push([fid.donor as number, `donor_${k}`, hashString(`donor_${k}`)]);
  await exec(
    sql`INSERT INTO lamindb_jsonvalue (feature_id, value, hash, created_by_id) VALUES ${sql.join(
      jv.map(([f, v, h]) => sql`(${f}, ${JSON.stringify(v)}::jsonb, ${h}, ${userId})`),
      sql`, `,
    )}`,
  );
  // links: artifact id → value by arithmetic on the id (the same rule in the checks below)
  for (const [feature, value] of [
    ["temperature", "to_jsonb(20 + (a.id % 100) * 0.5)"],
    ["n_cells", "to_jsonb(a.id % 1000)"],
    ["donor", "to_jsonb('donor_' || (a.id % 50))"],
  ] as const) {
    await exec(sql`INSERT INTO lamindb_artifactjsonvalue (artifact_id, jsonvalue_id)
      SELECT a.id, jv.id FROM lamindb_artifact a JOIN lamindb_jsonvalue jv
        ON jv.feature_id = ${fid[feature]} AND jv.value = ${sql.raw(value)}`);
  }
  await exec(sql`INSERT INTO lamindb_artifactulabel (artifact_id, ulabel_id, feature_id, created_by_id)
    SELECT a.id, u.id, ${fid.cell_type}::int, ${userId}::int FROM lamindb_artifact a
      JOIN lamindb_ulabel u ON u.name = 'CT_' || (a.id % 20)
    UNION ALL
    SELECT a.id, u.id, ${fid.tissue}::int, ${userId}::int FROM lamindb_artifact a
      JOIN lamindb_ulabel u ON u.name = 'TS_' || (a.id % 10)`);
  await exec(sql`ANALYZE`);
  const counts = await queryRows<{ a: number; l: number; u: number }>(
    db,
    sql`SELECT (SELECT count(*) FROM lamindb_artifact)::int AS a,
      (SELECT count(*) FROM lamindb_artifactjsonvalue)::int AS l,
      (SELECT count(*) FROM lamindb_artifactulabel)::int AS u`,
  );
  console.log(
    `set-up: ${counts[0]?.a} artifacts, ${counts[0]?.l} feature-value links, ${counts[0]?.u} label links in ${fmtMs(performance.now() - t0)}\n`,
  );

  const page = `ORDER BY a.created_at DESC, a.id DESC LIMIT 100`;
  const handSelect = `SELECT a.*, s.root, u.handle FROM lamindb_artifact a
    JOIN lamindb_storage s ON s.id = a.storage_id JOIN lamindb_user u ON u.id = a.created_by_id`;
  const cases: {
    name: string;
    features: Record<string, unknown>;
    hand: () => ReturnType<typeof sql>;
    /** Shown for information, not part of the verdict. */
    info?: boolean;
  }[] = [
    {
      name: "(reference) no filter",
      features: {},
      info: true,
      hand: () => sql.raw(`${handSelect} WHERE a.branch_id = 1 AND a.is_latest ${page}`),
    },
    {
      name: "feature value: n_cells=7",
      features: { n_cells: 7 },
      hand: () =>
        sql.raw(`${handSelect} WHERE a.branch_id = 1 AND a.is_latest AND a.id IN (
          SELECT l.artifact_id FROM lamindb_artifactjsonvalue l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
          WHERE jv.feature_id = ${fid.n_cells} AND jv.value = '7'::jsonb) ${page}`),
    },
    {
      name: "feature range: temperature__gt=60",
      features: { temperature__gt: 60 },
      hand: () =>
        sql.raw(`${handSelect} WHERE a.branch_id = 1 AND a.is_latest AND EXISTS (
          SELECT 1 FROM lamindb_artifactjsonvalue l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
          WHERE l.artifact_id = a.id AND jv.feature_id = ${fid.temperature} AND jv.value > '60'::jsonb) ${page}`),
    },
    {
      name: "label: cell_type=CT_3",
      features: { cell_type: "CT_3" },
      hand: () =>
        sql.raw(`${handSelect} WHERE a.branch_id = 1 AND a.is_latest AND EXISTS (
          SELECT 1 FROM lamindb_artifactulabel l JOIN lamindb_ulabel x ON x.id = l.ulabel_id
          WHERE l.artifact_id = a.id AND l.feature_id = ${fid.cell_type} AND x.name = 'CT_3') ${page}`),
    },
    {
      name: "(1% match) temperature__gt=60 + cell_type=CT_3",
      features: { temperature__gt: 60, cell_type: "CT_3" },
      info: true,
      hand: () =>
        sql.raw(`${handSelect} WHERE a.branch_id = 1 AND a.is_latest AND EXISTS (
          SELECT 1 FROM lamindb_artifactjsonvalue l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
          WHERE l.artifact_id = a.id AND jv.feature_id = ${fid.temperature} AND jv.value > '60'::jsonb)
          AND EXISTS (SELECT 1 FROM lamindb_artifactulabel l JOIN lamindb_ulabel x ON x.id = l.ulabel_id
          WHERE l.artifact_id = a.id AND l.feature_id = ${fid.cell_type} AND x.name = 'CT_3') ${page}`),
    },
    {
      name: "rare label: tissue=TS_3 + n_cells=13",
      features: { tissue: "TS_3", n_cells: 13 },
      hand: () =>
        sql.raw(`${handSelect} WHERE a.branch_id = 1 AND a.is_latest AND a.id IN (
          SELECT l.artifact_id FROM lamindb_artifactjsonvalue l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
          WHERE jv.feature_id = ${fid.n_cells} AND jv.value = '13'::jsonb)
          AND EXISTS (SELECT 1 FROM lamindb_artifactulabel l JOIN lamindb_ulabel x ON x.id = l.ulabel_id
          WHERE l.artifact_id = a.id AND l.feature_id = ${fid.tissue} AND x.name = 'TS_3') ${page}`),
    },
  ];

  const W = [44, 8, 10, 10, 8, 8];
  console.log(
    row(["query (page of up to 100)", "rows", "SDK p50", "SQL p50", "ratio", "verdict"], W),
  );
  for (const c of cases) {
    const sdk: number[] = [];
    const hand: number[] = [];
    let sdkUids: string[] = [];
    let handUids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      const p = await ln.artifacts.list({ features: c.features, limit: 100 });
      sdk.push(performance.now() - t);
      sdkUids = p.items.map((a) => a.uid);
      t = performance.now();
      const rows = await queryRows<{ uid: string }>(db, c.hand());
      hand.push(performance.now() - t);
      handUids = rows.map((r) => r.uid);
    }
    // the first runs warm caches and plans: count the rest
    const s = median(sdk.slice(5));
    const h = median(hand.slice(5));
    const same = JSON.stringify(sdkUids) === JSON.stringify(handUids);
    const ok = same && s <= TARGET_MS && s <= Math.max(h * TARGET_RATIO, h + 1);
    if (!ok && !c.info) failed = true;
    console.log(
      row(
        [
          c.name,
          String(sdkUids.length),
          fmtMs(s),
          fmtMs(h),
          `${(s / h).toFixed(2)}x`,
          !same ? "DIFFERENT ROWS" : ok ? "ok" : c.info ? "(info)" : "SLOW",
        ],
        W,
      ),
    );
    console.log(
      row(
        [
          `  p90 SDK ${fmtMs(quantile(sdk.slice(5), 0.9))}, SQL ${fmtMs(quantile(hand.slice(5), 0.9))}`,
        ],
        [0],
      ),
    );
  }
  console.log(
    `\ntargets: SDK p50 under ${TARGET_MS} ms and within ${TARGET_RATIO}x of the hand-written SQL (or 1 ms of it: a round trip to look up the feature is part of the SDK's time); same rows`,
  );
  console.log(failed ? "verdict: MISSED" : "verdict: met");
} finally {
  await ln.close();
  await dropDatabase(url).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
