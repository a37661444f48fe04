/**
 * New embedded databases start from a template: a migrated, empty PGlite data folder kept in the
 * cache folder and copied (a native file copy, or a reflink where the file system has them).
 * Copying takes ~0.2 s where restoring a tarball into PGlite's virtual file system took ~0.6 s of
 * CPU and initdb + migrations ~5 s. The template is keyed by PGlite's version and the
 * migrations, so it never lags behind; it is only a cache: any problem with it falls back to
 * creating the database from scratch.
 */
import { createHash } from "node:crypto";
import {
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ioError } from "../io-errors.js";
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
  const template = join(templateDir, `pglite-${templateKey(sets)}`);
  if (!isDataDir(template)) {
    try {
      await buildTemplate(template, sets);
    } catch {
      // the template is an optimisation; a read-only cache folder must not fail `init`
    }
  }
  if (isDataDir(template)) {
    let database: PgliteDatabase | undefined;
    try {
      cpSync(template, dataDir, { recursive: true, mode: constants.COPYFILE_FICLONE });
      database = await openPglite(dataDir);
      await migrate(database.db, sets); // a no-op unless the template is not what its name says
      return database;
    } catch (error) {
      await database?.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      // a full or refused disk is the target's problem, not the template's: say so, keep it
      const io = ioError(error, `cannot create the embedded database in ${dataDir}`);
      if (io) throw io;
      rmSync(template, { recursive: true, force: true });
    }
  }
  const database = await openPglite(dataDir);
  await migrate(database.db, sets);
  return database;
}

const isDataDir = (dir: string) => existsSync(join(dir, "PG_VERSION"));

/**
 * Create, migrate and cleanly close a database in a folder of its own, then rename it into place:
 * a template is complete once it exists, and never opened again (only copied). Processes racing
 * to build it each build their own; the first rename wins, the others discard theirs.
 */
async function buildTemplate(template: string, sets: MigrationSet[]): Promise<void> {
  const tmp = `${template}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(template), { recursive: true });
  try {
    const database = await openPglite(tmp);
    try {
      await migrate(database.db, sets);
    } finally {
      await database.close();
    }
    renameSync(tmp, template);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
