/**
 * A private Postgres server for a benchmark, sized as an operator would size it for the load:
 * initdb + pg_ctl from /usr/lib/postgresql/<version>/bin, in a temporary folder, listening on a
 * free port of 127.0.0.1 only (trust authentication there and on its own unix socket, in that
 * folder). initdb refuses to run as root: as root, the server runs as the `postgres` OS user
 * (runuser). Durability is off (fsync, synchronous_commit, full_page_writes): the cluster is
 * deleted at the end, and a benchmark must not wait on this machine's disk.
 *
 * `stop()` removes it; so does the process's exit, and SIGINT, SIGTERM or SIGHUP (which then
 * exit with 128 + the signal's number, running the other 'exit' handlers).
 */
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface PostgresCluster {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  maxConnections: number;
  /** What it is, for the report: version, port, settings. */
  description: string;
  /** Stop the server and delete its folder; idempotent. */
  stop(): void;
}

/** The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and postgres. */
function findBinaries(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const bin = join(root, v, "bin");
    if (["initdb", "pg_ctl", "postgres"].every((b) => existsSync(join(bin, b)))) return bin;
  }
  throw new Error(
    `no initdb, pg_ctl and postgres in ${root}/*/bin (install the postgresql package, or set BENCH_PG=shared to use DATABASE_URL's server)`,
  );
}

/** The OS user the server runs as, and how to run a command as that user. */
function runAs(): { uid: number; gid: number; wrap: (argv: string[]) => string[] } {
  const me = userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, wrap: (argv) => argv };
  // root: initdb and postgres refuse to run as root
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      "running as root, and there is no `postgres` OS user to run the server as (Postgres refuses to run as root)",
    );
  }
  return {
    uid: Number(uid.stdout.trim()),
    gid: Number(gid.stdout.trim()),
    wrap: (argv) => ["runuser", "-u", "postgres", "--", ...argv],
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgresCluster(opts: {
  maxConnections: number;
}): Promise<PostgresCluster> {
  const bin = findBinaries();
  const user = runAs();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "lamin-bench-pg-"));
  const data = join(dir, "data");
  const run = (what: string, argv: string[]) => {
    const [cmd, ...args] = user.wrap(argv);
    const r = spawnSync(cmd as string, args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) {
      const output = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").slice(-5).join("\n");
      const why = r.error?.message ?? `exit ${r.status}`;
      throw new Error(`${what} failed (${why})${output ? `: ${output}` : ""}`);
    }
  };

  let state: "starting" | "running" | "stopped" = "starting";
  const stop = () => {
    if (state === "stopped") return;
    if (state === "running") {
      // immediate: no checkpoint, the folder goes anyway; closes the clients' connections
      try {
        run("pg_ctl stop", [join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]);
      } catch (e) {
        console.error(`the benchmark's Postgres server in ${dir}: ${(e as Error).message}`);
      }
    }
    state = "stopped";
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", stop);
    for (const [signal] of SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.exit(128 + (SIGNALS.get(signal) ?? 0)); // runs the 'exit' handlers, stop among them
  };
  process.on("exit", stop);
  for (const [signal] of SIGNALS) process.on(signal, onSignal);

  try {
    chownSync(dir, user.uid, user.gid);
    run("initdb", [
      join(bin, "initdb"),
      "-D",
      data,
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
      "-A",
      "trust",
    ]);
    // trust on loopback IPv4 and the socket in our 0700 folder only (initdb's -A trust adds ::1)
    writeFileSync(
      join(data, "pg_hba.conf"),
      "local all all trust\nhost all all 127.0.0.1/32 trust\n",
    );
    const settings = {
      port,
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${dir}'`,
      max_connections: opts.maxConnections,
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
    };
    appendFileSync(
      join(data, "postgresql.conf"),
      `\n# bench/lib/postgres-cluster.ts\n${Object.entries(settings)
        .map(([k, v]) => `${k} = ${v}`)
        .join("\n")}\n`,
    );
    run("pg_ctl start", [
      join(bin, "pg_ctl"),
      "-D",
      data,
      "-l",
      join(dir, "postgres.log"),
      "-w",
      "-t",
      "60",
      "start",
    ]);
    state = "running";
  } catch (e) {
    stop();
    throw e;
  }
  const version = bin.split("/").at(-2);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    maxConnections: opts.maxConnections,
    description: `a private Postgres ${version} server for this benchmark (127.0.0.1:${port}, ${dir}; fsync, synchronous_commit and full_page_writes off: its data is thrown away)`,
    stop,
  };
}

const SIGNALS = new Map<NodeJS.Signals, number>([
  ["SIGHUP", 1],
  ["SIGINT", 2],
  ["SIGTERM", 15],
]);
