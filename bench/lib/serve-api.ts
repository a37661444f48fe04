/**
 * A server for bench/api.ts, in a process of its own so that the load generator does not share
 * its event loop. Run with `node --import tsx bench/lib/serve-api.ts <mode>`:
 *
 * - `api <instance>`: the instance's API as `lamin serve` builds it (openInstance + createApp +
 *   @hono/node-server); the access token's SHA-256 comes in LAMIN_API_TOKEN_SHA256.
 * - `bare`: a bare Hono app with one route, `GET /x` → `{"ok":true}`, the baseline.
 * - `bare-db <postgres url>`: a bare Hono app whose one route, `GET /x/:uid`, answers the row of
 *   `lamindb_artifact` with that uid, read by a prepared statement through a node-postgres pool
 *   of 4 (as `lamin serve` has): the least any route that reads the database costs. Its second
 *   route, `GET /list?prefix=P`, is the floor of the filtered list: the same two prepared
 *   statements as `GET /artifacts?key__startswith=P&limit=50` (the page's ids newest first, then
 *   their rows with storage, creator and run), the rows sent as node-postgres returns them.
 *
 * Listens on 127.0.0.1, port 0, and prints one JSON line `{"port": N}` once it listens.
 * SIGTERM closes it. With BENCH_CPU_PROFILE=<prefix>, SIGUSR2 starts the V8 CPU profiler and the
 * next SIGUSR2 stops it, writes `<prefix>-<n>.cpuprofile` and prints `{"profile": path}`: the
 * profile covers exactly the load between the two signals.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { LIST_IDS, LIST_ROWS } from "./list-statements.js";
import { cpuProfiler } from "./profile.js";

type Fetch = (request: Request) => Response | Promise<Response>;

async function apiApp(name: string): Promise<{ fetch: Fetch; close(): Promise<void> }> {
  const digest = process.env.LAMIN_API_TOKEN_SHA256;
  if (!digest) throw new Error("LAMIN_API_TOKEN_SHA256 is not set");
  const [{ tokenMatches }, { openInstance }, { createApp }] = await Promise.all([
    import("../../core/auth.js"),
    import("../../core/setup.js"),
    import("../../functions/api/app.js"),
  ]);
  const instance = await openInstance(name, { purpose: "bench/api" });
  const app = createApp({
    instance: () => instance,
    authorize: (token) => token !== undefined && tokenMatches(token, digest),
  });
  return { fetch: app.fetch, close: () => instance.close() };
}

function bareApp(): { fetch: Fetch; close(): Promise<void> } {
  const app = new Hono().get("/x", (c) => c.json({ ok: true }));
  return { fetch: app.fetch, close: async () => {} };
}

async function bareDbApp(url: string): Promise<{ fetch: Fetch; close(): Promise<void> }> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const app = new Hono().get("/x/:uid", async (c) => {
    const { rows } = await pool.query({
      name: "artifact_by_uid",
      text: "SELECT * FROM lamindb_artifact WHERE uid = $1",
      values: [c.req.param("uid")],
    });
    return rows[0] ? c.json(rows[0]) : c.json({ error: "not found" }, 404);
  });
  app.get("/list", async (c) => {
    const prefix = (c.req.query("prefix") ?? "").replace(/[\\%_]/g, "\\$&");
    const ids = await pool.query({ name: "list_ids", text: LIST_IDS, values: [`${prefix}%`] });
    const order = ids.rows.map((r: { id: number }) => r.id);
    const { rows } = await pool.query({ name: "list_rows", text: LIST_ROWS, values: [order] });
    // back in the page's order, as the registry puts them
    const at = new Map(order.map((id: number, i: number) => [id, i]));
    const items = new Array(rows.length);
    for (const r of rows) items[at.get(r.id) as number] = r;
    return c.json({ items });
  });
  return { fetch: app.fetch, close: () => pool.end() };
}

const [mode, arg] = process.argv.slice(2);
const app =
  mode === "api" && arg
    ? await apiApp(arg)
    : mode === "bare"
      ? bareApp()
      : mode === "bare-db" && arg
        ? await bareDbApp(arg)
        : undefined;
if (!app) {
  console.error("usage: serve-api.ts api <instance> | bare | bare-db <postgres url>");
  process.exit(2);
}
const profilePrefix = process.env.BENCH_CPU_PROFILE;
if (profilePrefix) {
  const profiler = await cpuProfiler(profilePrefix);
  process.on("SIGUSR2", async () => {
    process.stdout.write(`${JSON.stringify(await profiler.toggle())}\n`);
  });
}

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});
const stop = () => {
  server.close();
  app.close().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
