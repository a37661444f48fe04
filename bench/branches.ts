/**
 * Branch merge benchmark: `npx tsx bench/branches.ts`.
 *
 * A branch holds 10,000 artifacts: 5,000 new keys and 5,000 new versions of keys that are on main.
 * Timed in the same run, on the same rows:
 *   (a) baseline: one raw `UPDATE lamindb_artifact SET branch_id = ... WHERE branch_id = ...` of
 *       those rows (onto a scratch branch, rolled back: a raw move onto main would break main's
 *       one-latest-per-key index, which is what the merge takes care of);
 *   (b) `branches.merge`: the conflict check, is_latest reconciled per family, every
 *       branch-sensitive table moved, the branch marked merged, in one transaction.
 * On PGlite, and on Postgres when DATABASE_URL is set (a database of its own, dropped). Rows are
 * written with SQL (a merge moves rows, never bytes). Timings are printed, never asserted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmtMs, laminEnv, median, row, timed } from "./lib/common.js";

const N = 10_000;
const W = [58, 12, 14];

const dir = mkdtempSync(join(tmpdir(), "lamin-branches-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const { initInstance } = await import("../core/setup.js");
const { sql } = await import("drizzle-orm");
const { dropDatabase } = await import("../core/db/postgres.js");
const { queryRows } = await import("../core/db/client.js");

type Instance = Awaited<ReturnType<typeof initInstance>>;

/** 5,000 keys on main, then on a new branch 5,000 new versions of them and 5,000 new keys. */
async function fill(ln: Instance, branchName: string): Promise<number> {
  const half = N / 2;
  const common = sql`storage_id, suffix, size, hash, _hash_type, _key_is_virtual,
    _overwrite_versions, created_by_id, branch_id, created_on_id, is_latest, created_at`;
  // uid: an 8-character tag and 8 digits (the 16-character stem), then the version suffix
  const values = (branchId: number, tag: string, suffix: string, from: number, age: string) =>
    sql`SELECT ${tag} || lpad(i::text, 8, '0') || ${suffix}, 'k/' || (i + ${from}) || '.csv',
      ${ln.storageRecord.id}, '.csv', 10, left(md5(${tag + suffix} || i), 22), 'md5', true, false,
      ${ln.user.id}, ${branchId}, ${branchId}, true, now() - ${age}::interval
      FROM generate_series(1, ${half}) AS i`;
  await ln.db.execute(
    sql`INSERT INTO lamindb_artifact (uid, key, ${common}) ${values(1, "benchmai", "0000", 0, "1 hour")}`,
  );
  const branch = await ln.branches.create(branchName);
  const id = (await ln.branches.resolve(branch.uid)).id;
  await ln.db.execute(
    sql`INSERT INTO lamindb_artifact (uid, key, ${common}) ${values(id, "benchmai", "0001", 0, "0 s")}`,
  );
  await ln.db.execute(
    sql`INSERT INTO lamindb_artifact (uid, key, ${common}) ${values(id, "benchnew", "0000", half, "0 s")}`,
  );
  return id;
}

async function bench(label: string, db: string | undefined): Promise<void> {
  const root = join(dir, `storage-${label}`);
  const ln = await initInstance({ storage: root, name: `bench-${label}`, ...(db ? { db } : {}) });
  try {
    const id = await fill(ln, "bench");
    const scratch = (await ln.branches.resolve((await ln.branches.create("scratch")).uid)).id;
    const raw: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { ms } = await timed(() =>
        ln.db
          .transaction(async (tx) => {
            await tx.execute(
              sql`UPDATE lamindb_artifact SET branch_id = ${scratch} WHERE branch_id = ${id}`,
            );
            throw new Rollback();
          })
          .catch((e: unknown) => {
            if (!(e instanceof Rollback)) throw e;
          }),
      );
      raw.push(ms);
    }
    const merged = await timed(() => ln.branches.merge("bench", { target: "main" }));
    const [check] = await queryRows<{ moved: number; latest: number }>(
      ln.db,
      sql`SELECT count(*) FILTER (WHERE created_on_id = ${id})::int AS moved,
        count(*) FILTER (WHERE is_latest)::int AS latest FROM lamindb_artifact WHERE branch_id = 1`,
    );
    if (check?.moved !== N || check.latest !== N) {
      // every branch row on main; latest: 5,000 new keys + 5,000 new versions (main's demoted)
      throw new Error(`merge left ${check?.moved} moved, ${check?.latest} latest on main`);
    }
    const rawMs = median(raw);
    console.log(
      row([`${label}: one raw UPDATE of the ${N} rows (median of 3)`, fmtMs(rawMs), ""], W),
    );
    console.log(
      row(
        [
          `${label}: lamin merge of the branch (${merged.value.demoted} versions demoted)`,
          fmtMs(merged.ms),
          `${(merged.ms / rawMs).toFixed(1)}x the UPDATE`,
        ],
        W,
      ),
    );
  } finally {
    await ln.close();
    if (db) await dropDatabase(db).catch(() => {});
  }
}

class Rollback extends Error {}

try {
  console.log(`Merging a branch of ${N} artifacts into main (${N / 2} of them new versions)`);
  console.log(row(["", "time", "vs baseline"], W));
  await bench("pglite", undefined);
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/lamin_bench_branches_${Date.now()}`;
    await bench("postgres", url.toString());
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
