/**
 * Routing to a dead `lamin serve` (issue 13, item 9). A server registers itself in
 * `$LAMIN_HOME/servers/<name>.json` (URL, token, pid) and other commands go through it. A record
 * left behind by a server that was killed, whose pid now belongs to another process (or is a
 * zombie), or whose port another HTTP server took, must not break every command: they check that
 * the server answers as this instance, fall back to opening the instance directly, and say so
 * once. The token of the record is never sent to a server that has not answered as the instance.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { laminHome, registerServer } from "../../core/settings.js";
import { lamin, stopChild, tempDir, useTempHome } from "../helpers.js";

useTempHome();
const work = tempDir("lamin-dead-server-");
const root = join(work, "data");
const NAME = "deadsrv";
const TOKEN = `lnt_${"x".repeat(40)}`;
const serverFile = () => join(laminHome(), "servers", `${NAME}.json`);
const lockFile = join(root, ".lamindb", "pglite.lock");
// a stale record must not make a command wait: through a server it would not wait at all
const env = { LAMIN_LOCK_TIMEOUT_MS: "3000" };
const children: ChildProcess[] = [];

beforeAll(async () => {
  const init = await lamin(["init", "--storage", root, "--name", NAME, "--json"]);
  expect(init.code, init.stderr).toBe(0);
});

afterEach(async () => {
  await Promise.all(children.splice(0).map(stopChild));
});
afterAll(() => Promise.all(children.map(stopChild)));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A process of the test: `sleep 60`, or a zombie (an exited child its parent never reaps). */
async function start(kind: "sleep" | "zombie"): Promise<number> {
  const script = kind === "sleep" ? "exec sleep 60" : "sleep 0 & echo $!; exec sleep 60";
  const child = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
  children.push(child);
  if (kind === "sleep") return child.pid as number;
  const pid = await new Promise<number>((resolve) =>
    child.stdout?.once("data", (d) => resolve(Number(String(d).trim()))),
  );
  // wait until it has exited and stays unreaped
  for (let i = 0; i < 100; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} did not become a zombie`);
}

/** What a `lamin serve` killed with SIGKILL leaves: its record and its database lock. */
function leftBehind(server: { url: string; pid: number }, lock?: { startedAt: Date }) {
  registerServer(NAME, { url: server.url, token: TOKEN, pid: server.pid });
  if (lock) {
    writeFileSync(
      lockFile,
      JSON.stringify({
        pid: server.pid,
        host: hostname(),
        startedAt: lock.startedAt.toISOString(),
        purpose: "lamin serve",
      }),
    );
  }
}

const exists = (path: string) => {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Commands that read and write still work, and the stale record is reported once, then gone. */
async function expectCommandsWork(note: RegExp) {
  const file = join(work, `f-${Math.random()}.txt`);
  writeFileSync(file, file);
  const saved = await lamin(["save", file, "--description", "after a dead server", "--json"], {
    env,
  });
  expect(saved.code, saved.stderr).toBe(0);
  expect(saved.stderr).toMatch(note);
  expect(exists(serverFile())).toBe(false);
  const ls = await lamin(["ls", "--json"], { env });
  expect(ls.code, ls.stderr).toBe(0);
  expect(ls.stderr).toBe("");
  expect(JSON.parse(ls.stdout).map((a: { uid: string }) => a.uid)).toContain(
    JSON.parse(saved.stdout).uid,
  );
}

describe("a stale servers/*.json", () => {
  it("pid alive but another process (and its old lock): commands open the instance directly", async () => {
    const pid = await start("sleep");
    // the lock was taken an hour before that process started: its pid was reused
    leftBehind(
      { url: `http://127.0.0.1:${await closedPort()}`, pid },
      { startedAt: new Date(Date.now() - 3600_000) },
    );
    await expectCommandsWork(/note: .*does not answer.*opened the instance directly/);
    const migrate = await lamin(["migrate", "status", "--json"], { env });
    expect(migrate.code, migrate.stderr).toBe(0);
  });

  it("pid a zombie (and its lock): commands open the instance directly", async () => {
    const pid = await start("zombie");
    leftBehind({ url: `http://127.0.0.1:${await closedPort()}`, pid }, { startedAt: new Date() });
    const ls = await lamin(["ls", "--json"], { env });
    expect(ls.code, ls.stderr).toBe(0);
    expect(exists(serverFile())).toBe(false);
    const migrate = await lamin(["migrate", "status", "--json"], { env });
    expect(migrate.code, migrate.stderr).toBe(0);
  });

  describe("another HTTP server on the port", () => {
    const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
    let other: Server;
    let url = "";
    beforeAll(async () => {
      // answers everything, like a dev server that took the port over
      other = createServer((req, res) => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ok: true, items: [] }));
      });
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise((resolve) => other.close(resolve)));

    it("is asked who it is, never sent the token, and not used", async () => {
      leftBehind({ url, pid: process.pid });
      await expectCommandsWork(/note: .*does not answer as .*deadsrv/);
      expect(seen.length).toBeGreaterThan(0);
      for (const request of seen) {
        expect(request).toMatchObject({ method: "GET", url: "/health" });
        expect(request.headers.authorization).toBeUndefined();
        expect(JSON.stringify(request.headers)).not.toContain(TOKEN);
      }
    });
  });

  it("a port that accepts and never answers: commands do not hang on it", async () => {
    const sockets: import("node:net").Socket[] = [];
    const silent: TcpServer = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as { port: number };
      leftBehind({ url: `http://127.0.0.1:${port}`, pid: process.pid });
      await expectCommandsWork(/note: .*does not answer/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
