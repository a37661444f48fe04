/**
 * The floor of the hub for bench/hub.ts: the least a hub can do for `GET
 * /instances/{owner}/{name}/artifacts/{uid}` while checking the key on every request (so that a
 * revoked key is refused at once). The hub's own key check (`authenticateFor`, one round trip to
 * the hub's database), then one prepared SELECT of the artifact's row on the instance's database
 * through a node-postgres pool of its own, answered as node-postgres returns it. No space
 * policies (every caller is served as the owner would be), no registry, no budget. Run with `node
 * --import tsx bench/lib/serve-hub-floor.ts <hub database url>`; listens on 127.0.0.1, port 0,
 * prints `{"port": N}` once it listens; SIGTERM closes it.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import pg from "pg";
import { openHub } from "../../core/hub/open.js";

const url = process.argv[2];
if (!url) {
  console.error("usage: serve-hub-floor.ts <hub database url>");
  process.exit(2);
}
const opened = await openHub(url);
const pools = new Map<string, pg.Pool>();
const poolOf = (dbUrl: string) => {
  let pool = pools.get(dbUrl);
  if (!pool) {
    // two per instance: 50 requests over 100 instances rarely meet on one
    pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
    pools.set(dbUrl, pool);
  }
  return pool;
};
const app = new Hono().get("/instances/:owner/:name/artifacts/:uid", async (c) => {
  const key = (c.req.header("authorization") ?? "").replace(/^Bearer /, "");
  const { owner, name, uid } = c.req.param();
  const result = await opened.hub.authenticateFor(key, "127.0.0.1", owner, name);
  if (!("account" in result)) return c.json({ error: result.error }, 401);
  if (!result.access) return c.json({ error: "no access" }, 404);
  const { rows } = await poolOf(result.access.instance.db_url).query({
    name: "artifact_by_uid",
    text: "SELECT * FROM lamindb_artifact WHERE uid = $1",
    values: [uid],
  });
  return rows[0] ? c.json(rows[0]) : c.json({ error: "not found" }, 404);
});
const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});
const stop = () => {
  server.close();
  Promise.all([...pools.values()].map((p) => p.end()))
    .then(() => opened.close())
    .finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
