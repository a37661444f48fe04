/**
 * Spaces enforced by the database (Postgres row-level security), so that no query can forget
 * them: every table with a `space_id` shows a restricted principal only the rows of the spaces it
 * may read, and takes writes only into the spaces it may write. Works the same on Postgres and
 * PGlite.
 *
 * How: a role without privileges of its own (`lamin_spaces`, no login, not the tables' owner, so
 * RLS applies to it) and policies that read two settings of the transaction. A restricted request
 * runs in one transaction that switches to that role and sets its space ids (`inSpaces`). Owners,
 * admins and `lamin serve` never switch: they pay nothing and see everything, as the table owner.
 * A missing setting reads as "no space": a forgotten setting shows nothing rather than all.
 */
import { sql } from "drizzle-orm";
import { LaminError } from "../errors.js";
import type { Database, Db } from "./client.js";
import { queryRows, sqlState, transactionWith } from "./client.js";
import { nameStatementsForRestrictedRole } from "./kept-statements.js";
import type { Prelude } from "./prelude.js";

/** The role restricted requests run as (roles belong to the server, shared by its databases). */
export const SPACES_ROLE = "lamin_spaces";

/** The space ids a principal may read and write (write ⊆ read). */
export interface SpaceGrants {
  read: readonly number[];
  write: readonly number[];
}

/** Tables whose visibility is the row's own id (the spaces themselves), not a `space_id`. */
const BY_ID = new Set(["lamindb_space"]);

/**
 * The space ids of the transaction, as a sub-select: Postgres computes it once per statement (an
 * InitPlan). Called bare, it ran for every row a policy filtered: a restricted count over 20,000
 * rows took 14-26 ms, 4-7 ms with the sub-select.
 */
const ids = (kind: "read" | "write") => `(SELECT lamin_space_ids('${kind}'))::smallint[]`;
/** How pg_get_expr shows a policy written with `ids` (one written before has no sub-select). */
const CURRENT_POLICY = "%SELECT lamin_space_ids(%";

/** What must exist before a restricted request: role, grants, function, policies. */
async function missing(db: Db): Promise<{ role: boolean; tables: string[]; ungranted: boolean }> {
  const [role] = await queryRows<{ ok: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${SPACES_ROLE}) AS ok`,
  );
  const exists = role?.ok === true;
  const rows = await queryRows<{
    name: string;
    rls: boolean;
    granted: boolean;
    spaced: boolean;
    guarded: boolean;
    current: boolean;
  }>(
    db,
    sql`SELECT c.relname AS name, c.relrowsecurity AS rls,
          ${exists ? sql`has_table_privilege(${SPACES_ROLE}, c.oid, 'SELECT')` : sql`false`} AS granted,
          EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                  AND a.attname = 'space_id' AND NOT a.attisdropped) AS spaced,
          EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid
                  AND g.tgname = 'lamin_space_guard') AS guarded,
          EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                  AND p.polname = 'lamin_space_read'
                  AND pg_get_expr(p.polqual, p.polrelid) LIKE ${CURRENT_POLICY}) AS current
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
  );
  type Table = (typeof rows)[number];
  // the tables policies guard: those with a space_id, and the spaces themselves
  const covered = (r: Table) => r.spaced || BY_ID.has(r.name);
  // without policies, with policies an earlier version wrote, or with a space_id left unguarded
  const outdated = (r: Table) => !r.rls || !r.current || (r.spaced && !r.guarded);
  return {
    role: !exists,
    tables: rows.filter((r) => covered(r) && outdated(r)).map((r) => r.name),
    ungranted: rows.some((r) => !r.granted),
  };
}

/** Create what is missing; idempotent, and safe when two processes do it at once. */
async function install(database: Database): Promise<void> {
  await database.db.transaction(async (tx) => {
    // one installer per database at a time; the role is the server's: created once, tolerated
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('lamin_spaces_install'))`);
    const todo = await missing(tx as unknown as Db);
    if (todo.role) {
      await tx.execute(
        sql.raw(`DO $$ BEGIN CREATE ROLE ${SPACES_ROLE} NOLOGIN;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`),
      );
    }
    // a database user who is not a superuser (Neon's) may switch only to a role it belongs to
    await tx.execute(
      sql.raw(`DO $$ BEGIN
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           AND NOT pg_has_role(current_user, '${SPACES_ROLE}', 'MEMBER') THEN
          EXECUTE format('GRANT ${SPACES_ROLE} TO %I', current_user);
        END IF; END $$`),
    );
    const statements = [
      ...(todo.ungranted || todo.role
        ? [
            `GRANT USAGE ON SCHEMA public TO ${SPACES_ROLE}`,
            `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${SPACES_ROLE}`,
            `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${SPACES_ROLE}`,
          ]
        : []),
      `CREATE OR REPLACE FUNCTION lamin_space_ids(kind text) RETURNS smallint[]
        LANGUAGE sql STABLE AS $f$
          SELECT coalesce(string_to_array(nullif(current_setting('lamin.spaces_' || kind, true), ''), ',')::smallint[], '{}'::smallint[])
        $f$`,
      // the old row of an UPDATE or DELETE must be in a space the caller may write
      `CREATE OR REPLACE FUNCTION lamin_space_guard() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
          IF NOT (OLD.space_id = ANY (lamin_space_ids('write'))) THEN
            RAISE EXCEPTION 'row-level security: space % is not writable by this principal', OLD.space_id
              USING ERRCODE = '42501';
          END IF;
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $f$`,
      ...todo.tables.flatMap(policiesFor),
    ];
    // one statement per call: the drivers' extended protocol takes no more
    for (const statement of statements) await tx.execute(sql.raw(statement));
  });
}

/** RLS and the four policies of one table: reading by the read grants, writing by the write. */
function policiesFor(table: string): string[] {
  const q = `"${table.replaceAll('"', '""')}"`;
  const policy = (name: string, rest: string) => [
    `DROP POLICY IF EXISTS ${name} ON ${q}`,
    `CREATE POLICY ${name} ON ${q} ${rest}`,
  ];
  const read = ids("read");
  const write = ids("write");
  if (BY_ID.has(table)) {
    // spaces are made by admins (who bypass RLS): a restricted principal only sees its own
    return [
      `ALTER TABLE ${q} ENABLE ROW LEVEL SECURITY`,
      ...policy("lamin_space_read", `FOR SELECT USING (id = ANY (${read}))`),
    ];
  }
  // UPDATE and DELETE see what the caller may read, so that touching a row of a space it may
  // only read is refused out loud (the guard below) rather than skipped as if it were not there;
  // WITH CHECK keeps rows from moving into a space it may not write
  return [
    `ALTER TABLE ${q} ENABLE ROW LEVEL SECURITY`,
    ...policy("lamin_space_read", `FOR SELECT USING (space_id = ANY (${read}))`),
    ...policy("lamin_space_insert", `FOR INSERT WITH CHECK (space_id = ANY (${write}))`),
    ...policy(
      "lamin_space_update",
      `FOR UPDATE USING (space_id = ANY (${read})) WITH CHECK (space_id = ANY (${write}))`,
    ),
    ...policy("lamin_space_delete", `FOR DELETE USING (space_id = ANY (${read}))`),
    `DROP TRIGGER IF EXISTS lamin_space_guard ON ${q}`,
    // only restricted requests run it: the owner's writes (merges of thousands of rows) do not
    `CREATE TRIGGER lamin_space_guard BEFORE UPDATE OR DELETE ON ${q} FOR EACH ROW
      WHEN (current_user = '${SPACES_ROLE}') EXECUTE FUNCTION lamin_space_guard()`,
  ];
}

/** Per open database: the policies are in place (checked once; re-checked after a refusal). */
const installed = new WeakMap<Database, Promise<void>>();

/**
 * Make sure the role, grants and policies cover every table of the database (new tables of a
 * module included). Cheap after the first call in a process.
 */
export function ensureSpacePolicies(database: Database): Promise<void> {
  let done = installed.get(database);
  if (!done) {
    done = (async () => {
      const todo = await missing(database.db);
      if (todo.role || todo.ungranted || todo.tables.length > 0) await install(database);
    })();
    installed.set(database, done);
    done.catch(() => installed.delete(database));
  }
  return done;
}

/**
 * Refuse to change what hangs on the row `id` of `table` (its links, labels, feature values:
 * rows without a `space_id` of their own) unless the caller may write in the row's space. Free
 * for unrestricted connections; for restricted ones, one indexed read.
 */
export async function assertWritableRow(database: Database, table: string, id: number) {
  const grants = database.spaces;
  if (!grants) return;
  const [row] = await queryRows<{ space_id: number }>(
    database.db,
    sql`SELECT space_id FROM ${sql.identifier(table)} WHERE id = ${id}`,
  );
  if (row && !grants.write.includes(row.space_id)) {
    throw new LaminError(
      "permission",
      "you may not write in that space",
      "ask an admin of the instance for the write role in the space (lamin collaborator space-add)",
    );
  }
}

/** Check and install again on the next restricted request (after a refusal: a new table). */
export function forgetSpacePolicies(database: Database): void {
  installed.delete(database);
}

const csv = (list: readonly number[]) =>
  list.filter((n) => Number.isInteger(n) && n > 0 && n < 32768).join(",");

/**
 * The grants of a read as a statement that goes ahead of each of its statements: read-only, as
 * the restricted role, with the space ids, all local to that statement's transaction.
 */
const readPrelude = (read: string, write: string): Prelude => ({
  name: "lamin_spaces_read_prelude",
  text: `SELECT set_config('transaction_read_only', 'on', true),
    set_config('role', '${SPACES_ROLE}', true),
    set_config('lamin.spaces_read', $1, true),
    set_config('lamin.spaces_write', $2, true)`,
  values: [read, write],
});

/**
 * Run `fn` as a restricted principal: one transaction as `lamin_spaces` with `grants` set, over
 * a Database that is that transaction. Everything `fn` reads or writes goes through the policies.
 * `readOnly` (a GET): writes are refused; over a network no transaction is begun, each statement
 * going behind the grants in its own round trip (prelude.ts).
 */
export async function inSpaces<T>(
  database: Database,
  grants: SpaceGrants,
  fn: (scoped: Database) => Promise<T>,
  opts: { readOnly?: boolean } = {},
): Promise<T> {
  await ensureSpacePolicies(database);
  const read = csv(grants.read);
  const write = csv(grants.write);
  // in BEGIN's round trip, so without parameters: the role is ours, the ids only digits and commas
  const setup = `SELECT set_config('role', '${SPACES_ROLE}', true),
    set_config('lamin.spaces_read', '${read}', true),
    set_config('lamin.spaces_write', '${write}', true)`;
  try {
    return await transactionWith(
      database,
      opts.readOnly ? { setup, readOnly: true, prelude: [readPrelude(read, write)] } : { setup },
      (tx) => {
        nameStatementsForRestrictedRole(tx);
        return fn({ db: tx, driver: database.driver, spaces: grants, close: async () => {} });
      },
    );
  } catch (error) {
    // a table made after the policies (a module enabled since): install again next time
    if (sqlState(error) === "42501") installed.delete(database);
    throw error;
  }
}
