/**
 * The Lambda bundles: each function builds with esbuild into one self-contained ESM file that
 * holds no local-only code (PGlite, the CLI, local setup) and loads in a fresh Node process.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../core/auth.js";
import { dropDatabase } from "../core/db/postgres.js";
import { openHub } from "../core/hub/open.js";
import { initInstance } from "../core/setup.js";
import { bundleLambda, type LambdaBundle, localOnlyInputs } from "../scripts/bundle-lambda.mjs";
import { BACKENDS, postgresUrl, REPO, tempDir, useTempHome } from "./helpers.js";
import { functionUrlEvent, stageLinks } from "./lambda-events.js";
import { startS3rver } from "./servers/s3rver.js";
import { startWsProxy } from "./servers/ws-proxy.js";

const execFileP = promisify(execFile);
// the instances these tests make are remembered in a settings folder of their own, never the user's
useTempHome();

/** Run ESM code in a new `node` whose working folder is `cwd`; returns its stdout. */
async function nodeEval(code: string, cwd: string, env: Record<string, string> = {}) {
  // --input-type=module: unlike plain `node -e`, no global `require` hides a broken bundle
  const { stdout } = await execFileP(process.execPath, ["--input-type=module", "-e", code], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    timeout: 30_000,
  });
  return stdout.trim();
}

describe("API Lambda bundle", () => {
  // a folder of our own, outside the repository: nothing can be resolved from node_modules
  const outRoot = tempDir("lamin-bundle-");
  let bundle: LambdaBundle;

  beforeAll(async () => {
    bundle = await bundleLambda("api", { outRoot });
  });
  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

  it("builds, within sane size", () => {
    console.log(
      `API Lambda bundle: ${(bundle.bytes / 1024).toFixed(1)} KiB, ${bundle.inputs.length} inputs (${bundle.contributions
        .slice(0, 4)
        .map((c) => `${c.owner} ${(c.bytes / 1024).toFixed(0)} KiB`)
        .join(", ")})`,
    );
    expect(bundle.bytes).toBeGreaterThan(10_000);
    expect(bundle.bytes).toBeLessThan(10 * 1024 * 1024);
    expect(bundle.inputs).toContain("functions/api/lambda.ts");
  });

  it.each([
    ["PGlite", /@electric-sql\/pglite/],
    ["the CLI", /^cli\//],
    ["local setup (core/setup.ts)", /^core\/setup\.ts$/],
    ["the PGlite driver (core/db/pglite*)", /^core\/db\/pglite/],
    ["commander", /node_modules\/commander\//],
  ])("holds no %s", (_what, pattern) => {
    expect(bundle.inputs.filter((input) => pattern.test(input))).toEqual([]);
  });

  it("leaves the AWS SDK to the Lambda runtime", () => {
    expect(bundle.inputs.filter((input) => input.includes("node_modules/@aws-sdk/"))).toEqual([]);
  });

  it("imports in a fresh node process and exports a handler", async () => {
    const code = `import(${JSON.stringify(bundle.outfile)}).then((m) => console.log(typeof m.handler))`;
    expect(await nodeEval(code, outRoot)).toBe("function");
  });

  it("answers API Gateway v2 events, loading its database driver", async () => {
    const token = "lnt_bundle-test-token";
    const event = (path: string) => ({
      version: "2.0",
      routeKey: "$default",
      rawPath: path,
      rawQueryString: "",
      headers: { host: "lambda.local", authorization: `Bearer ${token}` },
      requestContext: {
        http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "t" },
        requestId: "r",
        routeKey: "$default",
        stage: "$default",
        timeEpoch: 0,
      },
      isBase64Encoded: false,
    });
    // /health needs no database; /artifacts loads `pg` (CommonJS, which needs `require` in the
    // bundle) and fails to connect to a closed port: a 503 problem, not a 500
    const events = [event("/health"), event("/artifacts")];
    const code = `
      const { handler } = await import(${JSON.stringify(bundle.outfile)});
      const answers = [];
      for (const event of ${JSON.stringify(events)}) answers.push(await handler(event, {}));
      console.log(JSON.stringify(answers.map((r) => ({
        status: r.statusCode, type: r.headers["content-type"], body: r.body,
      }))));
    `;
    const out = await nodeEval(code, outRoot, {
      DATABASE_URL: "postgresql://lamin@127.0.0.1:1/closed",
      LAMIN_INSTANCE: "anonymous/bundle-test",
      LAMIN_STORAGE_ROOT: outRoot,
      LAMIN_API_TOKEN_SHA256: hashToken(token),
    });
    const [health, artifacts] = JSON.parse(out.split("\n").at(-1) ?? "[]") as {
      status: number;
      type: string;
      body: string;
    }[];
    expect(health).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(artifacts?.status, artifacts?.body).toBe(503);
    expect(artifacts?.type).toBe("application/problem+json");
    expect(JSON.parse(artifacts?.body ?? "{}")).toMatchObject({ status: 503 });
  });
});

describe("ingest Lambda bundle", () => {
  const outRoot = tempDir("lamin-bundle-");
  let bundle: LambdaBundle;

  beforeAll(async () => {
    bundle = await bundleLambda("ingest", { outRoot });
  });
  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

  it("builds without local-only code, leaving the AWS SDK to the runtime", () => {
    expect(bundle.inputs).toContain("functions/ingest/lambda.ts");
    expect(bundle.inputs).toContain("core/ingest/ingest.ts");
    for (const pattern of [/@electric-sql\/pglite/, /^cli\//, /^core\/setup\.ts$/]) {
      expect(bundle.inputs.filter((input) => pattern.test(input))).toEqual([]);
    }
    expect(bundle.inputs.filter((input) => input.includes("node_modules/@aws-sdk/"))).toEqual([]);
  });

  it.skipIf(!BACKENDS.includes("postgres"))(
    "registers an upload from an SQS batch in a fresh node process, on Postgres and S3",
    async () => {
      useTempHome();
      const s3 = await startS3rver({ buckets: ["bundle"] });
      const db = postgresUrl();
      process.env.AWS_ACCESS_KEY_ID = "S3RVER";
      process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
      try {
        const instance = await initInstance({
          storage: "s3://bundle/data",
          name: "bundle-ingest",
          db,
          endpoint: s3.endpoint,
          pgliteDir: `${outRoot}/unused`,
        });
        await instance.close();
        await s3.client.send(
          new PutObjectCommand({ Bucket: "bundle", Key: "data/in lambda.csv", Body: "a,b\n" }),
        );
        const record = {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          eventTime: new Date().toISOString(),
          eventName: "ObjectCreated:Put",
          s3: {
            bucket: { name: "bundle" },
            object: { key: "data/in+lambda.csv", size: 4, sequencer: "0A" },
          },
        };
        const event = {
          Records: [
            {
              messageId: "m1",
              eventSource: "aws:sqs",
              body: JSON.stringify({ Records: [record] }),
            },
            { messageId: "m2", eventSource: "aws:sqs", body: "poison" },
          ],
        };
        const code = `
          const { handler } = await import(${JSON.stringify(bundle.outfile)});
          console.log(JSON.stringify(await handler(${JSON.stringify(event)})));
          process.exit(0);
        `;
        const out = await nodeEval(code, outRoot, {
          DATABASE_URL: db,
          LAMIN_INSTANCE: "anonymous/bundle-ingest",
          LAMIN_STORAGE_ROOT: "s3://bundle/data",
          LAMIN_STORAGE_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER",
          AWS_REGION: "us-east-1",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          // the Lambda runtime provides the AWS SDK; here it comes from the repository
          NODE_PATH: `${REPO}node_modules`,
        });
        const lines = out.split("\n");
        expect(JSON.parse(lines.at(-1) ?? "{}")).toEqual({
          batchItemFailures: [{ itemIdentifier: "m2" }],
        });
        expect(lines.some((l) => l.includes('"action":"created"'))).toBe(true);
        const reopened = await import("../core/setup.js").then((m) =>
          m.openInstance("bundle-ingest"),
        );
        expect((await reopened.artifacts.get({ key: "in lambda.csv" })).size).toBe(4);
        await reopened.close();
      } finally {
        await s3.close();
        await dropDatabase(db).catch(() => {});
      }
    },
    60_000,
  );
});

describe("a deployed stage's bundles (hub API, reconcile)", () => {
  const outRoot = tempDir("lamin-bundle-");
  const bundles: Record<string, LambdaBundle> = {};
  /** SST's links, as Lambda passes them to a function. */
  const links = (databaseUrl: string) => ({
    ...stageLinks({ stage: "bundle", databaseUrl, bucket: "bundle-stage" }),
    LAMIN_DB_DRIVER: "neon",
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    NODE_PATH: `${REPO}node_modules`,
  });
  const urlEvent = (path: string, token?: string) =>
    functionUrlEvent({ method: "GET", path, ...(token ? { token } : {}) });
  const answers = async (name: string, events: unknown[], env: Record<string, string>) => {
    const code = `
      const { handler } = await import(${JSON.stringify(bundles[name]?.outfile)});
      const answers = [];
      for (const event of ${JSON.stringify(events)}) answers.push(await handler(event, {}));
      console.log(JSON.stringify(answers));
      process.exit(0);
    `;
    const out = await nodeEval(code, outRoot, env);
    return JSON.parse(out.split("\n").at(-1) ?? "[]") as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    }[];
  };

  beforeAll(async () => {
    for (const name of ["hub", "reconcile"]) bundles[name] = await bundleLambda(name, { outRoot });
  });
  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

  it.each(["hub", "reconcile"])(
    "%s holds no local-only code and leaves the AWS SDK out",
    (name) => {
      const inputs = bundles[name]?.inputs ?? [];
      expect(inputs).toContain(`functions/${name}/lambda.ts`);
      expect(localOnlyInputs(inputs)).toEqual([]);
      expect(inputs.filter((input) => input.includes("node_modules/@aws-sdk/"))).toEqual([]);
      // the deployed functions reach Postgres with Neon's driver
      expect(inputs.some((input) => input.includes("node_modules/@neondatabase/serverless/"))).toBe(
        true,
      );
    },
  );

  it("the hub API answers 503 problem+json when its database is unreachable, naming no URL", async () => {
    const [health] = await answers("hub", [urlEvent("/health")], {
      ...links("postgresql://lamin:s3cr3tpw@127.0.0.1:1/hub"),
      LAMIN_NEON_WS_PROXY: "127.0.0.1:1/v1",
    });
    expect(health?.statusCode).toBe(503);
    expect(health?.headers["content-type"]).toBe("application/problem+json");
    expect(health?.headers["retry-after"]).toBe("5");
    expect(health?.body).not.toContain("s3cr3tpw");
    expect(JSON.parse(health?.body ?? "{}")).toMatchObject({ status: 503 });
  });

  it.skipIf(!BACKENDS.includes("postgres"))(
    "the hub API serves through Neon's driver in a fresh process",
    async () => {
      const url = postgresUrl();
      const proxy = await startWsProxy();
      try {
        const opened = await openHub(url);
        await opened.hub.createAccount("bundler");
        const { key } = await opened.hub.createKey("bundler");
        await opened.close();
        // the web UI ships beside the bundle (web/), not inside it
        const webDir = join(dirname(bundles.hub?.outfile as string), "web");
        const index = readFileSync(join(webDir, "index.html"), "utf8");
        const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(index)?.[1] as string;
        const [health, mine, anonymous, page, asset] = await answers(
          "hub",
          [
            urlEvent("/health"),
            urlEvent("/instances", key),
            urlEvent("/instances"),
            urlEvent("/instances/bundler/x/ui/artifacts"),
            urlEvent(script),
          ],
          { ...links(url), LAMIN_NEON_WS_PROXY: proxy.address },
        );
        expect(health?.statusCode).toBe(200);
        expect([mine?.statusCode, JSON.parse(mine?.body ?? "null")]).toEqual([200, []]);
        expect(anonymous?.statusCode).toBe(401);
        expect(page?.statusCode).toBe(200);
        expect(page?.headers["content-security-policy"]).toContain("script-src 'self'");
        expect(page?.body).toBe(index);
        expect(asset?.statusCode).toBe(200);
        expect(asset?.headers["cache-control"]).toContain("immutable");
        expect(proxy.connections()).toBeGreaterThan(0);
      } finally {
        await dropDatabase(url).catch(() => {});
        await proxy.close();
      }
    },
  );

  it.skipIf(!BACKENDS.includes("postgres"))(
    "the hub API enables pertdb, shipped beside the bundle, and serves its registries",
    async () => {
      const hubUrl = postgresUrl();
      const instanceUrl = postgresUrl();
      const root = tempDir("lamin-bundle-modules-");
      const proxy = await startWsProxy();
      try {
        const opened = await openHub(hubUrl);
        await opened.hub.createAccount("bundler");
        const { key } = await opened.hub.createKey("bundler");
        const made = await initInstance({ storage: root, name: "bundle-modules", db: instanceUrl });
        await made.close();
        await opened.hub.recordInstance({
          owner: "bundler",
          name: "mods",
          storageRoot: root,
          dbUrl: instanceUrl,
        });
        await opened.close();
        const post = (path: string, body: unknown) =>
          functionUrlEvent({
            method: "POST",
            path,
            token: key,
            body: JSON.stringify(body),
            headers: { "content-type": "application/json" },
          });
        const base = "/instances/bundler/mods";
        const [bionty, enabled, compound, listed] = await answers(
          "hub",
          [
            // pertdb points into bionty (its 0001): bionty first
            post(`${base}/modules/bionty/enable`, {}),
            post(`${base}/modules/pertdb/enable`, {}),
            post(`${base}/modules/records/pertdb.Compound`, { name: "imatinib" }),
            urlEvent(`${base}/modules`, key),
          ],
          { ...links(hubUrl), LAMIN_NEON_WS_PROXY: proxy.address },
        );
        expect(bionty?.statusCode, bionty?.body).toBe(200);
        expect(enabled?.statusCode, enabled?.body).toBe(200);
        expect(JSON.parse(enabled?.body ?? "{}").applied).toEqual([
          "0000_initial",
          "0001_bionty_links",
        ]);
        expect(compound?.statusCode, compound?.body).toBe(201);
        const modules = JSON.parse(listed?.body ?? "[]") as { name: string; enabled: boolean }[];
        expect(modules.find((m) => m.name === "pertdb")?.enabled).toBe(true);
      } finally {
        await proxy.close();
        for (const url of [instanceUrl, hubUrl]) await dropDatabase(url).catch(() => {});
        rmSync(root, { recursive: true, force: true });
      }
    },
  );

  it("the reconcile function refuses a payload it cannot understand, before touching anything", async () => {
    const out = await nodeEval(
      `const { handler } = await import(${JSON.stringify(bundles.reconcile?.outfile)});
       console.log(JSON.stringify(await handler({ instance: "not a slug" })));
       console.log(JSON.stringify(await handler({ instance: 5 })));
       process.exit(0);`,
      outRoot,
      links("postgresql://lamin@127.0.0.1:1/hub"),
    );
    // the handler's answers, not its log lines
    const [slug, number] = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((l) => !("level" in l));
    expect(slug).toMatchObject({
      action: "rejected",
      error: expect.stringMatching(/not a reconcile request/),
    });
    // zod's own messages are still English in bundles that ship zod's English locale only
    expect(number.error).toMatch(/Invalid input: expected string, received number/);
  });
});
