/**
 * A provisioning that fails says what failed in one short sentence: never the SQL, its
 * parameters, a database URL or a password (one failure once answered a 503 holding them).
 * Forced for real: an existing database whose objects break the migration, a Postgres server
 * that does not answer, and a hub database that refuses the instance's row. Nothing is left.
 */
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dropDatabase } from "../../core/db/postgres.js";
import { databaseNameFor } from "../../core/hub/postgres-provisioner.js";
import { PostgresProvisioner } from "../../core/hub/provision.js";
import { composeHubApp } from "../../functions/hub/compose.js";
import { useTempHome } from "../helpers.js";
import { ADMIN_URL, databasesOf, filesBelow, type HubFixture, hubFixture } from "./hub-fixture.js";

useTempHome();

const PASSWORD = "pw-never-shown-4711";

/** The test server's URL with a password in it (trust authentication ignores it). */
function withPassword(url: string, database?: string): string {
  const u = new URL(url);
  u.username = u.username || "postgres";
  u.password = PASSWORD;
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe.skipIf(!process.env.DATABASE_URL)("hub: provisioning errors leak nothing", () => {
  let fx: HubFixture;
  const owner = `pe-${Math.random().toString(36).slice(2, 7)}`;
  const made: string[] = [];
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});

  beforeAll(async () => {
    fx = await hubFixture();
    await fx.hub.createAccount(owner);
    fx.keys.stranger = (await fx.hub.createKey(owner)).key;
  }, 120_000);

  afterAll(async () => {
    logged.mockRestore();
    for (const name of made) await dropDatabase(`${ADMIN_URL.replace(/\/[^/]*$/, "")}/${name}`);
    await fx?.close();
  });

  const provisionWith = async (provisioner: PostgresProvisioner, name: string) => {
    const app = composeHubApp(fx.hub, {
      provisioner,
      storage: { allow: [{ root: fx.work }] },
    });
    const storage = join(fx.work, name);
    const before = await databasesOf(owner);
    const res = await app.request("/instances", {
      method: "POST",
      headers: {
        authorization: `Bearer ${fx.keys.stranger}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ owner, name, storage_root: storage }),
    });
    await app.close();
    const text = await res.text();
    return { status: res.status, type: res.headers.get("content-type"), text, storage, before };
  };

  /** The answer says what failed, briefly, and holds none of what must stay in the hub. */
  const expectClean = (r: { status: number; type: string | null; text: string }, step: RegExp) => {
    expect(r.type).toBe("application/problem+json");
    const p = JSON.parse(r.text) as { detail: string; hint?: string };
    expect(p.detail).toMatch(step);
    expect(p.detail.length, p.detail).toBeLessThan(300);
    for (const leak of [
      /\bselect\b/i,
      // SQL, not the step's name ('create database')
      /CREATE (TABLE|DATABASE|TYPE|VIEW)/,
      /insert into/i,
      /params:/i,
      /failed query/i,
      /postgres(ql)?:\/\//i,
      /127\.0\.0\.1/,
      new RegExp(PASSWORD),
    ]) {
      expect(r.text, `${leak} in ${r.text}`).not.toMatch(leak);
    }
    expect(p.hint).toBeTruthy();
  };

  it("a database of that name exists and its objects break the migration: 503, no SQL", async () => {
    const name = "clash";
    const database = databaseNameFor(owner, name);
    made.push(database);
    await sql(ADMIN_URL, `CREATE DATABASE "${database}"`);
    // no table (so the provisioner takes it as left by a crash), but a view where a table goes
    await sql(withPassword(ADMIN_URL, database), "CREATE VIEW lamindb_artifact AS SELECT 1 AS x");
    const r = await provisionWith(new PostgresProvisioner(withPassword(ADMIN_URL)), name);
    expect(r.status, r.text).toBe(503);
    expectClean(r, /provisioning '.*\/clash' failed at step 'migrate'/);
    await expect(fx.hub.instance(owner, name)).rejects.toThrow(/no instance/);
    expect(filesBelow(r.storage)).toEqual([]);
    // the hub's log has the cause, its password masked
    const log = logged.mock.calls.map((c) => String(c[0])).join("\n");
    expect(log).toMatch(/lamindb_artifact/);
    expect(log).not.toContain(PASSWORD);
  });

  it("the Postgres server for instance databases does not answer: 503, no address", async () => {
    const down = withPassword("postgresql://postgres@127.0.0.1:1/postgres");
    const r = await provisionWith(new PostgresProvisioner(down), "down");
    expect(r.status, r.text).toBe(503);
    expectClean(r, /failed at step 'create database': cannot connect/);
    expect(await databasesOf(owner)).toEqual(r.before);
    await expect(fx.hub.instance(owner, "down")).rejects.toThrow(/no instance/);
  });

  it("the hub database refuses the instance's row: 503, no parameters (the database URL)", async () => {
    await sql(
      fx.hubUrl,
      `CREATE FUNCTION refuse_instances() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'the hub refuses new instances'; END $$;
       CREATE TRIGGER refuse_instances BEFORE INSERT ON hub_instance
         FOR EACH ROW EXECUTE FUNCTION refuse_instances()`,
    );
    try {
      const r = await provisionWith(new PostgresProvisioner(withPassword(ADMIN_URL)), "late");
      expect(r.status, r.text).toBe(503);
      expectClean(r, /failed at step 'record in hub'/);
      // undone: no database, no marker, no row
      expect(await databasesOf(owner)).toEqual(r.before);
      expect(filesBelow(r.storage)).toEqual([]);
      await expect(fx.hub.instance(owner, "late")).rejects.toThrow(/no instance/);
    } finally {
      await sql(fx.hubUrl, "DROP TRIGGER refuse_instances ON hub_instance");
    }
  });
});
