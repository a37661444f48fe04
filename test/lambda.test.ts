/**
 * The API's Lambda entry (functions/api/lambda.ts) invoked with real event shapes: API Gateway
 * HTTP API (payload 2.0) and Lambda Function URL events, with encoded query strings and a binary
 * body, configured from the environment as in AWS. Without Postgres only the configuration errors
 * run: the function opens its instance on Postgres.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hashToken } from "../core/auth.js";
import { hashFile } from "../core/hash.js";
import type { Artifact } from "../core/registry/artifacts/artifacts.js";
import type { Problem } from "../functions/api/problem.js";
import {
  BACKENDS,
  createInstance,
  postgresUrl,
  REPO,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";
import {
  lambdaContext as context,
  apiGatewayEvent as gatewayEvent,
  type LambdaRequest,
  functionUrlEvent as urlEvent,
} from "./lambda-events.js";

// count how often the function connects to Postgres: a warm invocation must not connect again
const connects = vi.hoisted(() => ({ count: 0 }));
vi.mock("../core/db/postgres.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../core/db/postgres.js")>();
  return {
    ...original,
    openPostgres: (...args: Parameters<typeof original.openPostgres>) => {
      connects.count++;
      return original.openPostgres(...args);
    },
  };
});

useTempHome();

const TOKEN = "lnt_lambda-test-token-0123456789";
const ENV_KEYS = [
  "DATABASE_URL",
  "LAMIN_INSTANCE",
  "LAMIN_STORAGE_ROOT",
  "LAMIN_API_TOKEN_SHA256",
] as const;

type Handler = typeof import("../functions/api/lambda.js")["handler"];
type Result = Awaited<ReturnType<Handler>> & { headers: Record<string, string> };

/**
 * The handler, imported after `env` is set. One module for the whole file, as in one Lambda
 * container: a start that failed is not kept, so the next invocation sees the new environment.
 */
async function loadHandler(env: Partial<Record<(typeof ENV_KEYS)[number], string>>) {
  for (const key of ENV_KEYS) {
    const value = env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return (await import("../functions/api/lambda.js")).handler;
}

const apiGatewayEvent = (req: LambdaRequest) => gatewayEvent({ token: TOKEN, ...req });
const functionUrlEvent = (req: LambdaRequest) => urlEvent({ token: TOKEN, ...req });

const invoke = async (handler: Handler, event: LambdaEvent) =>
  (await handler(event, context)) as Result;

const json = <T>(result: Result): T => {
  expect(result.isBase64Encoded).toBe(false);
  return JSON.parse(result.body) as T;
};

/** A problem+json result with the stable type and no stack trace or server file in it. */
function expectProblem(result: Result, status: number, kind: string): Problem {
  expect(result.statusCode, result.body).toBe(status);
  expect(result.headers["content-type"]).toBe("application/problem+json");
  const problem = json<Problem>(result);
  expect(problem).toMatchObject({ type: `urn:lamindb-serverless:problem:${kind}`, status });
  expect(problem.detail).toEqual(expect.any(String));
  expect(result.body).not.toMatch(/\bat .*:\d+:\d+|\n\s+at\s|"stack"|node_modules/);
  expect(result.body).not.toContain(REPO);
  return problem;
}

describe("the Lambda handler without its configuration", () => {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  afterAll(() => {
    for (const key of ENV_KEYS) {
      const value = saved[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("answers 500 problem+json when the database settings are missing", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const handler = await loadHandler({ LAMIN_API_TOKEN_SHA256: hashToken(TOKEN) });
    for (const event of [
      apiGatewayEvent({ method: "GET", path: "/artifacts" }),
      functionUrlEvent({ method: "GET", path: "/artifacts" }),
    ]) {
      const result = await invoke(handler, event);
      const p = expectProblem(result, 500, "internal");
      // the operator finds the cause in the log; the client learns nothing of the setup
      expect(p.detail).not.toMatch(/LAMIN_|DATABASE_URL|lambda\.ts/);
    }
    expect(String(logged.mock.calls[0]?.[1])).toMatch(/is not set/);
    // public routes do not need the instance
    const health = await invoke(handler, apiGatewayEvent({ method: "GET", path: "/health" }));
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ ok: true });
    logged.mockRestore();
  });

  it("answers 500 problem+json when the token digest is missing", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const handler = await loadHandler({});
    const result = await invoke(handler, functionUrlEvent({ method: "GET", path: "/artifacts" }));
    expectProblem(result, 500, "internal");
    expect(String(logged.mock.calls.map((c) => c[1]).join("\n"))).toMatch(
      /LAMIN_API_TOKEN_SHA256 is not set/,
    );
    // without a token the answer does not depend on the configuration
    const anonymous = await invoke(
      handler,
      apiGatewayEvent({ method: "GET", path: "/artifacts", token: null }),
    );
    expectProblem(anonymous, 401, "unauthenticated");
    logged.mockRestore();
  });
});

describe.runIf(BACKENDS.includes("postgres"))("the Lambda handler on Postgres", () => {
  let t: TestInstance;
  let work: string;
  let handler: Handler;
  let env: Record<(typeof ENV_KEYS)[number], string>;
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);

  const connections = async (): Promise<number> => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: postgresUrl("postgres") });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
        [new URL(env.DATABASE_URL).pathname.slice(1)],
      );
      return rows[0]?.n ?? -1;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    t = await createInstance("postgres");
    work = tempDir();
    const ln = t.instance;
    const settings = ln.settings;
    if (settings.db.kind !== "postgres") throw new Error("expected a Postgres instance");
    writeTree(work, { "one.csv": "1", "ab.csv": "2", "cd.csv": "3", "other.csv": "4" });
    await ln.artifacts.save(join(work, "one.csv"), { key: "raw/a b/one.csv" });
    await ln.artifacts.save(join(work, "ab.csv"), { key: "raw/ab.csv" });
    await ln.artifacts.save(join(work, "cd.csv"), { key: "raw/c+d.csv" });
    await ln.artifacts.save(join(work, "other.csv"), { key: "raw/a&b=c.csv" });
    env = {
      DATABASE_URL: settings.db.url,
      LAMIN_INSTANCE: ln.slug,
      LAMIN_STORAGE_ROOT: settings.storageRoot,
      LAMIN_API_TOKEN_SHA256: hashToken(TOKEN),
    };
    // from here on only the function talks to the database
    await ln.close();
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
    for (const key of ENV_KEYS) {
      const value = saved[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("does not keep a failed start: a wrong database answers a problem, the next call works", async () => {
    const wrong = new URL(env.DATABASE_URL);
    wrong.pathname = "/lamin_test_does_not_exist";
    handler = await loadHandler({ ...env, DATABASE_URL: wrong.toString() });
    const failed = await invoke(handler, apiGatewayEvent({ method: "GET", path: "/artifacts" }));
    expectProblem(failed, 503, "unavailable");
    // fixed configuration, same container: the next invocation opens the instance
    for (const key of ENV_KEYS) process.env[key] = env[key];
    const before = connects.count;
    const result = await invoke(handler, apiGatewayEvent({ method: "GET", path: "/health" }));
    expect(result.statusCode).toBe(200);
    const listed = await invoke(handler, apiGatewayEvent({ method: "GET", path: "/artifacts" }));
    expect(listed.statusCode, listed.body).toBe(200);
    expect(connects.count).toBe(before + 1);
  });

  it("lists through an API Gateway v2 event with a percent-encoded query string", async () => {
    const result = await invoke(
      handler,
      apiGatewayEvent({
        method: "GET",
        path: "/artifacts",
        rawQueryString: "key__startswith=raw%2Fa%20b&order_by=-created_at&limit=10",
      }),
    );
    expect(result.statusCode, result.body).toBe(200);
    expect(result.headers["content-type"]).toMatch(/^application\/json/);
    const page = json<{ items: Artifact[] }>(result);
    expect(page.items.map((a) => a.key)).toEqual(["raw/a b/one.csv"]);
  });

  it("lists through a Function URL event: `+` is a space, %2B a plus, %26 and %3D are data", async () => {
    const keysFor = async (rawQueryString: string) => {
      const result = await invoke(
        handler,
        functionUrlEvent({ method: "GET", path: "/artifacts", rawQueryString }),
      );
      expect(result.statusCode, result.body).toBe(200);
      return json<{ items: Artifact[] }>(result).items.map((a) => a.key);
    };
    expect(await keysFor("key__startswith=raw%2Fa+b")).toEqual(["raw/a b/one.csv"]);
    expect(await keysFor("key__startswith=raw/c%2Bd")).toEqual(["raw/c+d.csv"]);
    expect(await keysFor("key=raw%2Fa%26b%3Dc.csv")).toEqual(["raw/a&b=c.csv"]);
    expect(await keysFor("key__startswith=raw%2F&suffix=.csv&order_by=created_at")).toEqual([
      "raw/a b/one.csv",
      "raw/ab.csv",
      "raw/c+d.csv",
      "raw/a&b=c.csv",
    ]);
    // by key, with the key encoded the way a browser would
    const byKey = await invoke(
      handler,
      functionUrlEvent({
        method: "GET",
        path: "/artifacts/by-key",
        rawQueryString: `key=${encodeURIComponent("raw/c+d.csv")}`,
      }),
    );
    expect(json<Artifact>(byKey).key).toBe("raw/c+d.csv");
  });

  it("uploads a binary body (bytes 0..255) and downloads it base64-encoded", async () => {
    const path = join(work, "bytes.bin");
    writeTree(work, { "bytes.bin": bytes });
    const h = await hashFile(path);
    const declared = await invoke(
      handler,
      apiGatewayEvent({
        method: "POST",
        path: "/artifacts/uploads",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: "bytes.bin",
          size: h.size,
          hash: h.hash,
          hash_type: h.hashType,
          key: "bin/bytes.bin",
        }),
      }),
    );
    expect(declared.statusCode, declared.body).toBe(200);
    const ticket = json<{
      status: string;
      artifact: Artifact;
      upload: { url: string; complete_url: string };
    }>(declared);
    expect(ticket.status).toBe("pending");

    const put = await invoke(
      handler,
      functionUrlEvent({
        method: "PUT",
        path: ticket.upload.url,
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      }),
    );
    expect(put.statusCode, put.body).toBe(204);
    expect(put.body).toBe("");

    const completed = await invoke(
      handler,
      apiGatewayEvent({ method: "POST", path: ticket.upload.complete_url }),
    );
    expect(completed.statusCode, completed.body).toBe(200);
    const artifact = json<Artifact>(completed);
    expect(artifact).toMatchObject({
      uid: ticket.artifact.uid,
      hash: h.hash,
      size: 256,
      upload_complete: true,
    });
    expect(new Uint8Array(readFileSync(artifact.path))).toEqual(bytes);

    for (const event of [apiGatewayEvent, functionUrlEvent]) {
      const download = await invoke(
        handler,
        event({ method: "GET", path: `/artifacts/${artifact.uid}/download` }),
      );
      expect(download.statusCode).toBe(200);
      expect(download.isBase64Encoded).toBe(true);
      expect(download.headers["content-type"]).toBe("application/octet-stream");
      expect(download.headers["content-length"]).toBe("256");
      expect(download.headers["x-lamin-hash"]).toBe(`md5:${h.hash}`);
      expect(new Uint8Array(Buffer.from(download.body, "base64"))).toEqual(bytes);
    }

    // the upload is done: its URL takes no more bytes
    const again = await invoke(
      handler,
      functionUrlEvent({ method: "PUT", path: ticket.upload.url, body: bytes }),
    );
    expectProblem(again, 404, "not-found");
  });

  it("refuses a binary body larger than declared with 413", async () => {
    writeTree(work, { "small.bin": bytes.subarray(0, 16) });
    const h = await hashFile(join(work, "small.bin"));
    const declared = await invoke(
      handler,
      functionUrlEvent({
        method: "POST",
        path: "/artifacts/uploads",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: "small.bin",
          size: h.size,
          hash: h.hash,
          hash_type: h.hashType,
          key: "bin/small.bin",
        }),
      }),
    );
    const ticket = json<{ artifact: Artifact; upload: { url: string } }>(declared);
    const put = await invoke(
      handler,
      apiGatewayEvent({
        method: "PUT",
        path: ticket.upload.url,
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      }),
    );
    expect(expectProblem(put, 413, "too-large").detail).toMatch(/declared 16 bytes/);
    expect(existsSync(ticket.artifact.path)).toBe(false);
  });

  it("answers problems as problem+json through both event shapes", async () => {
    const noToken = await invoke(
      handler,
      apiGatewayEvent({ method: "GET", path: "/artifacts", token: null }),
    );
    expectProblem(noToken, 401, "unauthenticated");
    expect(noToken.headers["www-authenticate"]).toMatch(/^Bearer /);
    const wrong = await invoke(
      handler,
      functionUrlEvent({ method: "GET", path: "/artifacts", token: "lnt_wrong" }),
    );
    expectProblem(wrong, 401, "unauthenticated");
    expectProblem(
      await invoke(handler, functionUrlEvent({ method: "GET", path: "/no/such/route" })),
      404,
      "not-found",
    );
    expectProblem(
      await invoke(
        handler,
        apiGatewayEvent({ method: "GET", path: "/artifacts", rawQueryString: "key__regex=.%2A" }),
      ),
      400,
      "validation",
    );
    expectProblem(
      await invoke(
        handler,
        functionUrlEvent({
          method: "POST",
          path: "/artifacts/uploads",
          headers: { "content-type": "application/json" },
          body: '{"name": "x.csv",',
        }),
      ),
      400,
      "validation",
    );
    const big = JSON.stringify({ description: "d".repeat(1024 * 1024 + 1) });
    expectProblem(
      await invoke(
        handler,
        apiGatewayEvent({
          method: "POST",
          path: "/artifacts/uploads",
          headers: { "content-type": "application/json" },
          body: big,
        }),
      ),
      413,
      "too-large",
    );
    const docs = await invoke(
      handler,
      functionUrlEvent({ method: "GET", path: "/openapi.json", token: null }),
    );
    expect(docs.statusCode).toBe(200);
    expect(json<{ openapi: string }>(docs).openapi).toMatch(/^3\.1\./);
  });

  it("keeps its instance between invocations: one connection, opened once", async () => {
    const before = connects.count;
    for (let i = 0; i < 5; i++) {
      const event = i % 2 ? apiGatewayEvent : functionUrlEvent;
      const result = await invoke(handler, event({ method: "GET", path: "/artifacts" }));
      expect(result.statusCode).toBe(200);
    }
    expect(connects.count).toBe(before);
    // the pool of the function holds one connection; the test's own instance is closed
    await expect.poll(connections).toBe(1);
  });
});
