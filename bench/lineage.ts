/**
 * Lineage benchmark: `npx tsx bench/lineage.ts`.
 *
 * On Postgres (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres; a database of
 * its own, dropped at the end): 10,000 runs of one transform, each writing one artifact and reading
 * the artifact of its parent in a binary tree (run i reads the output of run ⌊i/2⌋), written with
 * bulk SQL. Then, 50 times each, `ln.lineage(...)` at depth 10:
 *   - upstream from a leaf (a chain of 10 runs back towards the root),
 *   - downstream from a node near the top (a subtree: 2,046 runs, 4,094 nodes within 10 levels),
 *   - both directions from a node in the middle,
 * next to a hand-written recursive SQL baseline that only walks the ids (no records fetched, no
 * graph built). Prints p50/p95, this process's CPU per call, and the verdict against the target:
 * depth 10 under 50 ms (p50).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmtMs, median, quantile, row } from "./lib/common.js";

const RUNS = 10_000;
const DEPTH = 10;
const REPEAT = 50;
const TARGET_MS = 50;

const dir = mkdtempSync(join(tmpdir(), "lamin-lineage-bench-"));
process.env.LAMIN_HOME = join(dir, "home");
process.env.LAMIN_CACHE_DIR = join(dir, "cache");
delete process.env.LAMIN_INSTANCE;

const { sql } = await import("drizzle-orm");
const { initInstance } = await import("../core/setup.js");
const { dropDatabase } = await import("../core/db/postgres.js");
const { queryRows } = await import("../core/db/client.js");

const base = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
base.pathname = `/lamin_lineage_bench_${process.pid}`;
const url = base.toString();

const artifactUid = (i: number) => `bA${String(i).padStart(18, "0")}`;

async function main() {
  console.log(`Postgres: ${base.host}, database ${base.pathname.slice(1)} (dropped at the end)`);
  const ln = await initInstance({ storage: join(dir, "storage"), name: "lineage-bench", db: url });
  try {
    const user = ln.user.id;
    const storage = ln.storageRecord.id;
    const t0 = performance.now();
    const [tr] = await queryRows<{ id: number }>(
      ln.db,
      sql`INSERT INTO lamindb_transform (uid, key, kind, hash, created_by_id)
        VALUES ('benchTransform00', 'bench/step.sh', 'script', 'benchbenchbenchbenchbe', ${user})
        RETURNING id`,
    );
    await ln.db.execute(sql`INSERT INTO lamindb_run (uid, transform_id, created_by_id, _status_code)
      SELECT 'bR' || lpad(i::text, 14, '0'), ${(tr as { id: number }).id}, ${user}, 0
      FROM generate_series(1, ${RUNS}) AS i`);
    await ln.db.execute(sql`INSERT INTO lamindb_artifact (uid, key, storage_id, suffix, size, hash,
        _hash_type, _key_is_virtual, _overwrite_versions, created_by_id, run_id)
      SELECT 'bA' || lpad(i::text, 18, '0'), 'bench/a' || i || '.txt', ${storage}, '.txt', 1,
        substr(md5(i::text), 1, 22), 'md5', true, false, ${user}, r.id
      FROM generate_series(1, ${RUNS}) AS i JOIN lamindb_run r ON r.uid = 'bR' || lpad(i::text, 14, '0')`);
    await ln.db.execute(sql`INSERT INTO lamindb_artifact_input_of_runs (artifact_id, run_id)
      SELECT a.id, r.id FROM generate_series(2, ${RUNS}) AS i
      JOIN lamindb_run r ON r.uid = 'bR' || lpad(i::text, 14, '0')
      JOIN lamindb_artifact a ON a.uid = 'bA' || lpad((i / 2)::text, 18, '0')`);
    await ln.db.execute(sql`ANALYZE`);
    console.log(
      `built ${RUNS.toLocaleString("en-US")} runs, ${RUNS.toLocaleString("en-US")} artifacts, ${(RUNS - 1).toLocaleString("en-US")} inputs (binary tree) in ${fmtMs(performance.now() - t0)}\n`,
    );

    /** Hand-written baseline: the ids of runs and artifacts within `depth` runs, nothing else. */
    const baseline = (uid: string, direction: "upstream" | "downstream") =>
      direction === "upstream"
        ? sql`WITH RECURSIVE walk(run_id, depth) AS (
              SELECT a.run_id, 1 FROM lamindb_artifact a WHERE a.uid = ${uid}
            UNION
              SELECT src.run_id, w.depth + 1 FROM walk w
              JOIN lamindb_artifact_input_of_runs i ON i.run_id = w.run_id
              JOIN lamindb_artifact src ON src.id = i.artifact_id
              WHERE w.depth < ${DEPTH} AND src.run_id IS NOT NULL)
            SELECT DISTINCT run_id FROM walk`
        : sql`WITH RECURSIVE walk(run_id, depth) AS (
              SELECT i.run_id, 1 FROM lamindb_artifact a
              JOIN lamindb_artifact_input_of_runs i ON i.artifact_id = a.id WHERE a.uid = ${uid}
            UNION
              SELECT i.run_id, w.depth + 1 FROM walk w
              JOIN lamindb_artifact out ON out.run_id = w.run_id
              JOIN lamindb_artifact_input_of_runs i ON i.artifact_id = out.id
              WHERE w.depth < ${DEPTH})
            SELECT DISTINCT run_id FROM walk`;

    const W = [44, 8, 10, 10, 10, 12];
    console.log(row(["query (depth 10, 50 times)", "runs", "nodes", "p50", "p95", "node CPU"], W));
    const verdicts: string[] = [];
    const cases: [string, number, "upstream" | "downstream" | "both"][] = [
      ["upstream from a leaf", RUNS - 1, "upstream"],
      ["downstream from a node near the top", 8, "downstream"],
      ["both directions from a middle node", 300, "both"],
    ];
    for (const [label, i, direction] of cases) {
      const uid = artifactUid(i);
      await ln.lineage(uid, { direction, depth: DEPTH }); // warm up: plans, connections
      const times: number[] = [];
      let graph: Awaited<ReturnType<typeof ln.lineage>> | undefined;
      const cpu0 = process.cpuUsage();
      for (let k = 0; k < REPEAT; k++) {
        const s = performance.now();
        graph = await ln.lineage(uid, { direction, depth: DEPTH });
        times.push(performance.now() - s);
      }
      // this process's CPU per call: what a busy API server or a small Lambda pays besides SQL
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000 / REPEAT;
      const g = graph as NonNullable<typeof graph>;
      const runs = g.nodes.filter((n) => n.type === "run").length;
      const p50 = median(times);
      console.log(
        row(
          [
            `ln.lineage: ${label}`,
            String(runs),
            String(g.nodes.length),
            fmtMs(p50),
            fmtMs(quantile(times, 0.95)),
            fmtMs(cpuMs),
          ],
          W,
        ),
      );
      const walks: ("upstream" | "downstream")[] =
        direction === "both" ? ["upstream", "downstream"] : [direction];
      const base: number[] = [];
      let baseRuns = 0;
      for (let k = 0; k < REPEAT + 1; k++) {
        const s = performance.now();
        baseRuns = 0;
        for (const w of walks) baseRuns += (await queryRows(ln.db, baseline(uid, w))).length;
        if (k > 0) base.push(performance.now() - s); // the first one warms up
      }
      console.log(
        row(
          [
            "  baseline: recursive SQL, ids only",
            String(baseRuns),
            "-",
            fmtMs(median(base)),
            fmtMs(quantile(base, 0.95)),
          ],
          W,
        ),
      );
      verdicts.push(
        `${p50 < TARGET_MS ? "OK  " : "SLOW"} ${label}: p50 ${fmtMs(p50)} (target < ${TARGET_MS} ms; baseline ${fmtMs(median(base))})`,
      );
      if (runs !== baseRuns) {
        throw new Error(`${label}: lineage has ${runs} runs, the baseline ${baseRuns}`);
      }
    }
    console.log(`\n${verdicts.join("\n")}`);
  } finally {
    await ln.close();
    await dropDatabase(url).catch((e: unknown) => console.error(`could not drop ${url}: ${e}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
