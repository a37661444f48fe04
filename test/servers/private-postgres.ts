/**
 * A Postgres cluster of the test's own, to stop and start at will: the machine's shared server
 * must never be stopped (other suites use it). Made with the machine's own `initdb` and `pg_ctl`
 * (PG_BINDIR, `pg_config --bindir`, or /usr/lib/postgresql/<version>/bin) in a temporary folder,
 * on a free loopback port; run as the `postgres` user when the test runs as root, since Postgres
 * refuses to run as root. Where none of this is possible, `startPrivatePostgres` says why.
 * Benchmarks use it too (bench/lib/postgres-cluster.ts), with settings of their own.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PrivatePostgres {
  port: number;
  /** The Postgres version of its binaries, e.g. "15". */
  version: string;
  /** Its folder (data directory, socket, log). */
  dir: string;
  /** A URL for database `name` on this cluster. */
  url(name: string): string;
  /** Stop the server; "immediate" is a crash (no checkpoint, connections cut). */
  stop(mode?: "fast" | "immediate"): void;
  /** Start it again (nothing to do when it runs). */
  start(): void;
  /** Stop it and remove its folder. */
  destroy(): void;
}

function binDir(): string | undefined {
  const candidates = [process.env.PG_BINDIR];
  try {
    candidates.push(execFileSync("pg_config", ["--bindir"]).toString().trim());
  } catch {}
  try {
    for (const v of readdirSync("/usr/lib/postgresql").sort().reverse()) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`);
    }
  } catch {}
  return candidates.find(
    (d) => d && existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * `settings`: server settings for the command line (`-c name=value`), e.g. max_connections;
 * fsync is off whatever they say: the data is thrown away.
 */
export async function startPrivatePostgres(
  opts: { settings?: Record<string, string | number> } = {},
): Promise<PrivatePostgres | { skip: string }> {
  const bin = binDir();
  if (!bin) return { skip: "no initdb/pg_ctl found (set PG_BINDIR)" };
  const root = process.getuid?.() === 0;
  if (root) {
    try {
      execFileSync("id", ["postgres"]);
    } catch {
      return { skip: "running as root without a `postgres` user to run Postgres as" };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "lamin-private-pg-"));
  const data = join(dir, "data");
  const as = (cmd: string, args: string[]) =>
    root
      ? execFileSync("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], {
          stdio: "pipe",
        })
      : execFileSync(join(bin, cmd), args, { stdio: "pipe" });
  if (root) execFileSync("chown", ["-R", "postgres", dir]);
  else chownSync(dir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  const port = await freePort();
  try {
    as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `initdb failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}` };
  }
  const settings = { ...opts.settings, listen_addresses: "127.0.0.1", fsync: "off" };
  const options = [
    `-p ${port} -k ${dir}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
  ].join(" ");
  let running = false;
  const pg: PrivatePostgres = {
    port,
    version: bin.split("/").at(-2) ?? "?",
    dir,
    url: (name) => `postgresql://postgres@127.0.0.1:${port}/${name}`,
    start: () => {
      if (running) return;
      as("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", options, "-w", "start"]);
      running = true;
    },
    stop: (mode = "immediate") => {
      if (!running) return;
      as("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
      running = false;
    },
    destroy: () => {
      try {
        pg.stop("immediate");
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
  pg.start();
  return pg;
}
