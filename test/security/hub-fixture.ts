/**
 * A hub on the test Postgres server with one instance, `alice/alpha`, and a key per role:
 * alice owns it; bob is admin, carol write, dave read; eve is a stranger. What the attack tests
 * of the hub share, with a fingerprint of everything an attack could change.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { dropDatabase } from "../../core/db/postgres.js";
import type { Hub } from "../../core/hub/hub.js";
import { openHub } from "../../core/hub/open.js";
import { AuthThrottle } from "../../core/hub/throttle.js";
import type { Instance } from "../../core/instance.js";
import { initInstance } from "../../core/setup.js";
import { randomBase62 } from "../../core/uid.js";
import { createApp } from "../../functions/api/app.js";
import { postgresUrl, tempDir } from "../helpers.js";

export const ADMIN_URL =
  process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export type Who = "owner" | "admin" | "write" | "read" | "stranger";

export interface HubFixture {
  hub: Hub;
  hubUrl: string;
  work: string;
  keys: Record<Who, string>;
  alpha: { instance: Instance; root: string; dbUrl: string };
  close(): Promise<void>;
}

/** `throttle`: the hub's (default: one that never throttles, for tests of something else). */
export async function hubFixture(opts: { throttle?: AuthThrottle } = {}): Promise<HubFixture> {
  const work = tempDir("lamin-sec-hub-");
  const hubUrl = postgresUrl();
  const opened = await openHub(hubUrl, {
    throttle: opts.throttle ?? new AuthThrottle({ maxPerPrefix: 1e9, maxPerAddress: 1e9 }),
  });
  const { hub } = opened;
  for (const h of ["alice", "bob", "carol", "dave", "eve"]) await hub.createAccount(h);
  const root = join(work, "alpha");
  const dbUrl = postgresUrl();
  // its local settings get a name of their own: a test file may make several fixtures
  const local = `alpha-${randomBase62(6).toLowerCase()}`;
  const instance = await initInstance({ storage: root, name: local, db: dbUrl });
  await hub.recordInstance({ owner: "alice", name: "alpha", storageRoot: root, dbUrl });
  await hub.setCollaborator("alice", "alpha", "bob", "admin");
  await hub.setCollaborator("alice", "alpha", "carol", "write");
  await hub.setCollaborator("alice", "alpha", "dave", "read");
  const keys: Record<Who, string> = {
    owner: (await hub.createKey("alice")).key,
    admin: (await hub.createKey("bob")).key,
    write: (await hub.createKey("carol")).key,
    read: (await hub.createKey("dave")).key,
    stranger: (await hub.createKey("eve")).key,
  };
  return {
    hub,
    hubUrl,
    work,
    keys,
    alpha: { instance, root, dbUrl },
    async close() {
      await instance.close().catch(() => {});
      await opened.close().catch(() => {});
      for (const url of [dbUrl, hubUrl]) await dropDatabase(url).catch(() => {});
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * Every row of every table of the database at `url`, as one digest, plus the files below
 * `root` (path and size): equal before and after means nothing was changed.
 */
export async function fingerprint(url: string, root?: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    const parts = tables.map(
      (t) =>
        `(SELECT '${t.name}:' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${t.name} x)`,
    );
    const { rows } = await client.query<{ digest: string }>(
      `SELECT concat_ws(',', ${parts.join(", ")}) AS digest`,
    );
    return `${rows[0]?.digest}\n${root ? filesBelow(root).join("\n") : ""}`;
  } finally {
    await client.end();
  }
}

/** `path size` of every file below `dir` (none when it does not exist), sorted. */
export function filesBelow(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.split("/").includes("pglite"))
    .map((n) => {
      const s = statSync(join(dir, n), { throwIfNoEntry: false });
      return s?.isFile() ? `${n} ${s.size}` : `${n}/`;
    })
    .sort();
}

/** The databases on the test server whose names start as the provisioner names `owner`'s. */
export async function databasesOf(owner: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1",
      [`lamin\\_${owner.replaceAll("-", "\\_")}\\_%`],
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

/**
 * `METHOD path` of every route of the instance API, as its router has them: tests that iterate
 * it cover a route the day it is added.
 */
export function instanceApiRoutes(): string[] {
  const app = createApp({
    instance: () => {
      throw new Error("not opened in this test");
    },
    authorize: () => true,
  });
  const seen = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    // `{path{.+}}`-style parameters are a pattern of the router, not part of the route's name
    seen.add(`${r.method} ${r.path.replace(/\{[^}]*\}/g, "")}`);
  }
  return [...seen];
}
