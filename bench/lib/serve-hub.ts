/**
 * The hub server for bench/hub.ts, in a process of its own (so that the load generator does not
 * share its event loop), built as `lamin hub serve` builds it: openHub on a Postgres URL,
 * createHubApp, listenOn. Run with `node --import tsx bench/lib/serve-hub.ts <hub database url>`.
 *
 * BENCH_INSTANCE_POOL_MAX (1..4) caps the connections of each instance's pool (the hub opens a
 * pool of 4 per instance; 100 of them may not fit in the server's max_connections). Listens on
 * 127.0.0.1, port 0, and prints one JSON line `{"port": N}` once it listens, then, on each
 * SIGUSR2, `{"open": <instances in the pool>}`. SIGTERM closes it.
 */
import type { Pool } from "pg";
import { listenOn } from "../../cli/commands/serve.js";
import { openRecordedInstance } from "../../core/hub/instances.js";
import { openHub } from "../../core/hub/open.js";
import { createHubApp } from "../../functions/hub/app.js";

const url = process.argv[2];
if (!url) {
  console.error("usage: serve-hub.ts <hub database url>");
  process.exit(2);
}
const cap = Number(process.env.BENCH_INSTANCE_POOL_MAX ?? 4);
const opened = await openHub(url);
const app = createHubApp({
  hub: opened.hub,
  openInstance: async (record) => {
    const instance = await openRecordedInstance(record);
    // pg-pool reads options.max whenever it decides whether to open another connection
    (instance.db as unknown as { $client: Pool }).$client.options.max = cap;
    return instance;
  },
});
const { url: served, server } = await listenOn(app.fetch, { port: 0, host: "127.0.0.1" });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(served).port) })}\n`);
process.on("SIGUSR2", () => process.stdout.write(`${JSON.stringify({ open: app.pool.size })}\n`));
const stop = () => {
  server.close();
  app
    .close()
    .then(() => opened.close())
    .finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
