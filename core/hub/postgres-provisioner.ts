/** Instance databases on one Postgres server: `CREATE DATABASE` with the hub's admin role. */
import { dropDatabase, withPostgresClient } from "../db/postgres.js";
import { ConflictError, UnavailableError } from "../errors.js";
import { instanceIdFromSlug } from "../uid.js";
import type { DatabaseProvisioner } from "./provision.js";

/** Postgres identifiers are at most 63 bytes. */
const MAX_IDENTIFIER = 63;

/**
 * `lamin_<owner>_<name>`, lower-case with `_` for anything else, plus 8 hex of the slug's id:
 * `a-b/c` and `a/b-c` sanitise alike, and long slugs are cut, so the suffix keeps names unique.
 */
export function databaseNameFor(owner: string, name: string): string {
  const suffix = instanceIdFromSlug(`${owner}/${name}`).slice(0, 8);
  const base = `lamin_${owner}_${name}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return `${base.slice(0, MAX_IDENTIFIER - suffix.length - 1)}_${suffix}`;
}

export class PostgresProvisioner implements DatabaseProvisioner {
  /** `adminUrl`: any database on the server, as a role allowed to CREATE DATABASE. */
  constructor(private readonly adminUrl: string) {}

  async create(owner: string, name: string): Promise<{ url: string }> {
    const database = databaseNameFor(owner, name);
    const url = new URL(this.adminUrl);
    url.pathname = `/${database}`;
    await withClient(this.adminUrl, async (client) => {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== "42P04") {
          // the server's own words stay in the cause (the hub's log), not in the message
          throw new UnavailableError(
            code === "42501"
              ? `the hub's database role may not create the database '${database}'`
              : `could not create the database '${database}'`,
            "the hub's DATABASE_URL needs a role with CREATEDB on a server that runs",
            { cause: error },
          );
        }
        // left by a crash before anything was written: take it; holding data: refuse
        if (!(await isEmpty(url.toString()))) {
          throw new ConflictError(
            `the database '${database}' exists and holds data`,
            "drop it, or choose another instance name",
          );
        }
      }
    });
    return { url: url.toString() };
  }

  drop(url: string): Promise<void> {
    return dropDatabase(url);
  }
}

async function isEmpty(url: string): Promise<boolean> {
  return withClient(url, async (client) => {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    return rows[0]?.n === 0;
  });
}

function withClient<T>(
  url: string,
  fn: (client: Parameters<Parameters<typeof withPostgresClient>[1]>[0]) => Promise<T>,
): Promise<T> {
  return withPostgresClient(url, fn, {
    onConnectError: (error) =>
      new UnavailableError(
        "cannot connect to the Postgres server for instance databases",
        "check the hub's DATABASE_URL and that its server runs",
        { cause: error },
      ),
  });
}
