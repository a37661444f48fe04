/**
 * The operator's channel to a running `lamin hub serve` whose database is PGlite (one process at
 * a time): a unix socket beside the hub's folder (`<dir>.sock`, mode 0600, so only the user who
 * runs the hub may use it). `lamin hub create-account` and `hub add-member` go through it while
 * the hub holds the database; it is not reachable from the network and not part of the hub's API.
 */
import { chmodSync, existsSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { LaminError, UnavailableError, ValidationError } from "../core/errors.js";
import type { Hub } from "../core/hub/hub.js";

export const operatorSocket = (pgliteDir: string) => `${pgliteDir}.sock`;

export interface NewAccount {
  handle: string;
  kind: string;
  key: string;
}

export interface Members {
  org: string;
  members: { handle: string; role: string }[];
}

/** What the operator may ask, the same whether through the socket or on the database. */
export async function operatorCreateAccount(
  hub: Hub,
  body: { handle: string; org?: boolean },
): Promise<NewAccount> {
  const account = await hub.createAccount(body.handle, { kind: body.org ? "org" : "user" });
  const key = await hub.createKey(account.handle, { name: "first key" });
  return { handle: account.handle, kind: account.kind, key: key.key };
}

export async function operatorSetMember(
  hub: Hub,
  body: { org: string; handle: string; role?: string; remove?: boolean },
): Promise<Members> {
  if (body.remove) await hub.removeMember(body.org, body.handle);
  else await hub.addMember(body.org, body.handle, (body.role ?? "member") as "member" | "admin");
  return { org: body.org, members: await hub.members(body.org) };
}

const MAX_BODY = 16 * 1024;

/** Listen on the operator socket; closing the server removes it. */
export async function serveOperatorSocket(hub: Hub, path: string): Promise<Server> {
  rmSync(path, { force: true }); // a socket file left by a hub that was killed
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) req.destroy();
    });
    req.on("end", async () => {
      const answer = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      try {
        const body = JSON.parse(text || "{}");
        if (req.method === "POST" && req.url === "/accounts") {
          return answer(200, await operatorCreateAccount(hub, body));
        }
        if (req.method === "POST" && req.url === "/members") {
          return answer(200, await operatorSetMember(hub, body));
        }
        answer(404, { error: { kind: "not-found", message: `no ${req.method} ${req.url}` } });
      } catch (error) {
        const e = error instanceof LaminError ? error : undefined;
        answer(e ? 400 : 500, {
          error: {
            kind: e?.kind ?? "internal",
            message: e?.message ?? "the hub could not do it (see its log)",
            ...(e?.hint ? { hint: e.hint } : {}),
          },
        });
        if (!e) console.error(error);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  server.on("close", () => rmSync(path, { force: true }));
  return server;
}

/** Ask the hub behind `path`; undefined when no hub listens there (then open the database). */
export async function askOperatorSocket<T>(
  path: string,
  route: "/accounts" | "/members",
  body: unknown,
): Promise<T | undefined> {
  if (!existsSync(path)) return undefined;
  const reply = await new Promise<{ status: number; text: string } | undefined>((resolve) => {
    const req = request({ socketPath: path, method: "POST", path: route }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 500, text }));
    });
    // no hub behind a socket file left by one that died: open the database instead
    req.on("error", () => resolve(undefined));
    req.end(JSON.stringify(body));
  });
  if (!reply) return undefined;
  const value = JSON.parse(reply.text) as T & {
    error?: { kind: string; message: string; hint?: string };
  };
  if (value.error) {
    if (value.error.kind === "validation") {
      throw new ValidationError(value.error.message, value.error.hint);
    }
    if (reply.status >= 500) throw new UnavailableError(value.error.message, value.error.hint);
    throw new LaminError(
      value.error.kind as LaminError["kind"],
      value.error.message,
      value.error.hint,
    );
  }
  return value;
}
