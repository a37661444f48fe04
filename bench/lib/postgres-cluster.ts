/**
 * A private Postgres server for a benchmark, sized as an operator would size it for the load:
 * the tests' own (test/servers/private-postgres.ts: initdb + pg_ctl in a temporary folder, on a
 * free port of 127.0.0.1, as the `postgres` OS user when run as root), with durability off
 * (fsync, synchronous_commit, full_page_writes): the cluster is deleted at the end, and a
 * benchmark must not wait on this machine's disk.
 *
 * `stop()` removes it; so does the process's exit, and SIGINT, SIGTERM or SIGHUP (which then
 * exit with 128 + the signal's number, running the other 'exit' handlers).
 */
import { startPrivatePostgres } from "../../test/servers/private-postgres.js";

export interface PostgresCluster {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  maxConnections: number;
  /** What it is, for the report: version, port, settings. */
  description: string;
  /** Stop the server and delete its folder; idempotent. */
  stop(): void;
}

const SIGNALS = new Map<NodeJS.Signals, number>([
  ["SIGHUP", 1],
  ["SIGINT", 2],
  ["SIGTERM", 15],
]);

export async function startPostgresCluster(opts: {
  maxConnections: number;
}): Promise<PostgresCluster> {
  const pg = await startPrivatePostgres({
    settings: {
      max_connections: opts.maxConnections,
      synchronous_commit: "off",
      full_page_writes: "off",
    },
  });
  if ("skip" in pg) {
    throw new Error(`${pg.skip} (or set BENCH_PG=shared to use DATABASE_URL's server)`);
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    pg.destroy();
    process.off("exit", stop);
    for (const [signal] of SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.exit(128 + (SIGNALS.get(signal) ?? 0)); // runs the 'exit' handlers, stop among them
  };
  process.on("exit", stop);
  for (const [signal] of SIGNALS) process.on(signal, onSignal);
  return {
    url: pg.url("postgres"),
    maxConnections: opts.maxConnections,
    description: `a private Postgres ${pg.version} server for this benchmark (127.0.0.1:${pg.port}, ${pg.dir}; fsync, synchronous_commit and full_page_writes off: its data is thrown away)`,
    stop,
  };
}
