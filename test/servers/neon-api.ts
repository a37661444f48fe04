/**
 * A stand-in for the few Neon API v2 endpoints NeonProvisioner calls, with Neon's JSON shapes.
 * Its databases are real: they are created and dropped on the local Postgres server, so the
 * connection URIs it hands out work. One project, one default branch; roles live in memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

export interface NeonStandIn {
  url: string;
  apiKey: string;
  projectId: string;
  branchId: string;
  /** Requests as "METHOD path", for assertions. */
  requests: string[];
  close(): Promise<void>;
}

export async function startNeonApi(opts: {
  /** Any database on the Postgres server whose databases this stand-in makes. */
  adminUrl: string;
  apiKey?: string;
  projectId?: string;
}): Promise<NeonStandIn> {
  const apiKey = opts.apiKey ?? "neon-test-key";
  const projectId = opts.projectId ?? "lamin-test-123456";
  const branchId = "br-main-000001";
  const now = new Date().toISOString();
  const roles = new Map<string, object>();
  const requests: string[] = [];
  let opCount = 0;

  const operation = (action: string) => ({
    id: `op-${++opCount}`,
    project_id: projectId,
    branch_id: branchId,
    action,
    status: "finished",
    failures_count: 0,
    created_at: now,
    updated_at: now,
    total_duration_ms: 1,
  });
  const databaseJson = (name: string, owner: string) => ({
    id: 1,
    branch_id: branchId,
    name,
    owner_name: owner,
    created_at: now,
    updated_at: now,
  });
  const roleJson = (name: string) => ({
    branch_id: branchId,
    name,
    created_at: now,
    updated_at: now,
  });
  const uriFor = (database: string) => {
    const url = new URL(opts.adminUrl);
    url.pathname = `/${database}`;
    return url.toString();
  };
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: opts.adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

  const route = async (req: IncomingMessage, url: URL): Promise<[number, unknown]> => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return [401, { code: "", message: "authentication required" }];
    }
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== "projects" || parts[1] !== projectId) {
      return [404, { code: "", message: "project not found" }];
    }
    const rest = parts.slice(2).join("/");
    const method = req.method ?? "GET";
    if (method === "GET" && rest === "branches") {
      const branch = { id: branchId, project_id: projectId, name: "main", default: true };
      return [200, { branches: [{ ...branch, current_state: "ready", created_at: now }] }];
    }
    if (method === "GET" && parts[2] === "operations" && parts[3]) {
      return [200, { operation: { ...operation("apply_config"), id: parts[3] } }];
    }
    if (method === "GET" && rest === "connection_uri") {
      const database = url.searchParams.get("database_name") ?? "";
      const role = url.searchParams.get("role_name") ?? "";
      if (!roles.has(role)) return [404, { code: "", message: `role ${role} not found` }];
      return [200, { uri: uriFor(database) }];
    }
    if (parts[2] !== "branches" || parts[3] !== branchId) {
      return [404, { code: "", message: "not found" }];
    }
    const body = method === "POST" ? await readJson(req) : {};
    if (parts[4] === "roles" && parts.length === 5) {
      if (method === "GET") return [200, { roles: [...roles.values()] }];
      const name = (body as { role?: { name?: string } }).role?.name ?? "";
      if (roles.has(name)) return [409, { code: "", message: `role ${name} exists` }];
      roles.set(name, roleJson(name));
      return [201, { role: roles.get(name), operations: [operation("apply_config")] }];
    }
    if (parts[4] === "databases" && parts.length === 5 && method === "POST") {
      const { name = "", owner_name = "" } =
        (body as { database?: { name?: string; owner_name?: string } }).database ?? {};
      if (!roles.has(owner_name))
        return [404, { code: "", message: `role ${owner_name} not found` }];
      try {
        await admin((c) => c.query(`CREATE DATABASE ${quote(name)}`));
      } catch (error) {
        if ((error as { code?: string }).code === "42P04") {
          return [409, { code: "", message: `database ${name} already exists` }];
        }
        throw error;
      }
      return [
        201,
        { database: databaseJson(name, owner_name), operations: [operation("apply_config")] },
      ];
    }
    if (parts[4] === "databases" && parts[5] && method === "DELETE") {
      const name = parts[5];
      const exists = await admin((c) =>
        c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]),
      );
      if (!exists.rowCount) return [404, { code: "", message: `database ${name} not found` }];
      await admin((c) => c.query(`DROP DATABASE ${quote(name)} WITH (FORCE)`));
      return [
        200,
        { database: databaseJson(name, "lamin"), operations: [operation("apply_config")] },
      ];
    }
    return [404, { code: "", message: "not found" }];
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push(`${req.method} ${url.pathname}`);
    route(req, url).then(
      ([status, body]) => send(res, status, body),
      (error) => send(res, 500, { code: "", message: (error as Error).message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    projectId,
    branchId,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
