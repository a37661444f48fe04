/**
 * New embedded databases start from a template: a migrated, empty PGlite database kept as a
 * tarball in the cache folder. Restoring it takes ~1.5 s where initdb + migrations take ~5 s.
 * The template is keyed by PGlite's version and the migrations, so it never lags behind; it is
 * only a cache: any problem with it falls back to creating the database from scratch.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type MigrationSet, migrate } from "./migrate.js";
import { openPglite, type PgliteDatabase } from "./pglite.js";

function templateKey(sets: MigrationSet[]): string {
  let pgliteVersion = "unknown";
  try {
    // the package does not export its package.json: find it next to its entry point
    const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
    pgliteVersion = JSON.parse(
      readFileSync(join(dirname(entry), "..", "package.json"), "utf8"),
    ).version;
  } catch {}
  const h = createHash("sha256").update(pgliteVersion);
  for (const set of sets) {
    h.update(`\0${set.app}`);
    for (const m of set.migrations) h.update(`\0${m.name}\0${m.statements.join("\0")}`);
  }
  return h.digest("hex").slice(0, 16);
}

export async function createMigratedPglite(
  dataDir: string,
  sets: MigrationSet[],
  templateDir: string,
): Promise<PgliteDatabase> {
  const path = join(templateDir, `pglite-${templateKey(sets)}.tar.gz`);
  if (existsSync(path)) {
    let database: PgliteDatabase | undefined;
    try {
      database = await openPglite(dataDir, new Blob([readFileSync(path)]));
      await migrate(database.db, sets); // a no-op unless the template is not what its name says
      return database;
    } catch {
      await database?.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(path, { force: true });
    }
  }
  const database = await openPglite(dataDir);
  await migrate(database.db, sets);
  try {
    const tarball = Buffer.from(await (await database.dump()).arrayBuffer());
    mkdirSync(templateDir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, tarball);
    renameSync(tmp, path);
  } catch {
    // the template is an optimisation; a read-only cache folder must not fail `init`
  }
  return database;
}
