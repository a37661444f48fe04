/**
 * Per-account instances of the hub: provisioned on Postgres and on Neon (a local stand-in of its
 * API), opened as instances, refused when duplicate, undone when a step fails, deprovisioned.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres } from "../core/db/postgres.js";
import { ConflictError, type LaminError, ValidationError } from "../core/errors.js";
import type { Hub } from "../core/hub/hub.js";
import { openHub } from "../core/hub/open.js";
import {
  type DatabaseProvisioner,
  deprovisionInstance,
  NeonProvisioner,
  PostgresProvisioner,
  ProvisionError,
  provisionerFromEnv,
  provisionInstance,
} from "../core/hub/provision.js";
import { StoragePolicy } from "../core/hub/storage-policy.js";
import { attachInstance } from "../core/instance.js";
import { newInstanceSettings } from "../core/instance-store.js";
import { openStorage } from "../core/storage/open.js";
import { STORAGE_MARKER_KEY } from "../core/storage/types.js";
import { tempDir, useTempHome } from "./helpers.js";
import { type NeonStandIn, startNeonApi } from "./servers/neon-api.js";
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from "./servers/s3rver.js";

const ADMIN_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return Boolean(rowCount);
  } finally {
    await client.end();
  }
}

const dbName = (url: string) => new URL(url).pathname.slice(1);

/** The hub's storage policy here: instances in the temporary folders the tests make. */
const local = new StoragePolicy({ allow: [{ root: tmpdir() }] });

/** Every database this file's handles own: whatever a test leaves is checked for, then dropped. */
async function lamindbDatabases(owner: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`lamin_${owner.replaceAll("-", "_")}_%`],
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe.skipIf(!process.env.DATABASE_URL)("provisioning per-account instances", () => {
  let hub: Hub;
  let closeHub: () => Promise<void>;
  let neon: NeonStandIn;
  const owner = `pv-${Math.random().toString(36).slice(2, 8)}`;
  const postgres = new PostgresProvisioner(ADMIN_URL);
  let neonProvisioner: NeonProvisioner;

  beforeAll(async () => {
    useTempHome();
    const opened = await openHub({ pgliteDir: join(tempDir(), "hub") });
    hub = opened.hub;
    closeHub = opened.close;
    await hub.createAccount(owner);
    neon = await startNeonApi({ adminUrl: ADMIN_URL });
    neonProvisioner = new NeonProvisioner({
      apiKey: neon.apiKey,
      projectId: neon.projectId,
      apiUrl: neon.url,
    });
  });

  afterAll(async () => {
    for (const name of await lamindbDatabases(owner)) {
      await postgres.drop(`${ADMIN_URL.replace(/\/[^/]*$/, "")}/${name}`).catch(() => {});
    }
    await neon?.close();
    await closeHub?.();
  });

  /** Open the provisioned instance as the hub's router would, from its record. */
  async function open(name: string) {
    const record = await hub.instance(owner, name);
    const settings = newInstanceSettings({
      owner,
      name,
      storageRoot: record.storage_root,
      db: { kind: "postgres", url: record.db_url },
    });
    const database = await openPostgres(record.db_url);
    return attachInstance(settings, database, openStorage(record.storage_root));
  }

  async function provisionAndUse(provisioner: DatabaseProvisioner, name: string) {
    const root = join(tempDir(), "storage");
    const record = await provisionInstance(
      hub,
      provisioner,
      { owner, name, storageRoot: root },
      local,
    );
    expect(record).toMatchObject({ owner, name, storage_root: root });
    expect(record).not.toHaveProperty("db_url");
    const account = await hub.account(owner);
    const ln = await open(name);
    try {
      expect(ln.user).toMatchObject({ uid: account.uid, handle: owner });
      const file = join(tempDir(), "hello.txt");
      writeFileSync(file, "hello\n");
      const { artifact, status } = await ln.artifacts.save(file, { key: "hello.txt" });
      expect(status).toBe("created");
      expect(artifact).toMatchObject({ key: "hello.txt", size: 6 });
      const marker = await openStorage(root).readText(STORAGE_MARKER_KEY);
      expect(marker).toContain(`instance_slug=${owner}/${name}`);
    } finally {
      await ln.close();
    }
    return { root, url: (await hub.instance(owner, name)).db_url };
  }

  it("provisions on Postgres: the owner is the instance's user, artifacts save", async () => {
    const { url } = await provisionAndUse(postgres, "pg-one");
    expect(dbName(url)).toMatch(/^lamin_pv_[a-z0-9]+_pg_one_[0-9a-f]{8}$/);
    expect(await databaseExists(dbName(url))).toBe(true);
  });

  it("provisions on Neon through its API", async () => {
    const before = neon.requests.length;
    const { url } = await provisionAndUse(neonProvisioner, "neon-one");
    expect(await databaseExists(dbName(url))).toBe(true);
    const calls = neon.requests.slice(before);
    expect(calls).toContain(`POST /projects/${neon.projectId}/branches/${neon.branchId}/databases`);
    expect(calls).toContain(`GET /projects/${neon.projectId}/connection_uri`);
    // deprovision drops it through the API
    await deprovisionInstance(hub, neonProvisioner, owner, "neon-one");
    expect(await databaseExists(dbName(url))).toBe(false);
    expect(neon.requests.at(-1)).toMatch(/^DELETE .*\/databases\/lamin_/);
  });

  it("a wrong Neon API key fails cleanly: nothing recorded, no database", async () => {
    const wrong = new NeonProvisioner({
      apiKey: "wrong",
      projectId: neon.projectId,
      apiUrl: neon.url,
    });
    const root = join(tempDir(), "storage");
    const before = await lamindbDatabases(owner);
    const error = await provisionInstance(
      hub,
      wrong,
      {
        owner,
        name: "neon-bad",
        storageRoot: root,
      },
      local,
    )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error).toMatchObject({ step: "create database", kind: "unauthenticated" });
    expect((error as Error).message).toMatch(
      /create database.*Neon: could not find the default branch: the API key was refused \(HTTP 401\)/,
    );
    await expect(hub.instance(owner, "neon-bad")).rejects.toThrow(/no instance/);
    expect(await lamindbDatabases(owner)).toEqual(before);
    expect(await openStorage(root).exists(STORAGE_MARKER_KEY)).toBe(false);
  });

  it("refuses a duplicate owner/name before creating anything", async () => {
    await provisionInstance(
      hub,
      postgres,
      {
        owner,
        name: "dup",
        storageRoot: join(tempDir(), "storage"),
      },
      local,
    );
    const before = await lamindbDatabases(owner);
    const root = join(tempDir(), "storage");
    await expect(
      provisionInstance(hub, postgres, { owner, name: "dup", storageRoot: root }, local),
    ).rejects.toThrow(ConflictError);
    expect(await lamindbDatabases(owner)).toEqual(before);
    expect(await openStorage(root).exists(STORAGE_MARKER_KEY)).toBe(false);
  });

  it("refuses a storage root managed by another instance, unknown owners and bad names", async () => {
    const { root } = await provisionAndUse(postgres, "pg-managed");
    const before = await lamindbDatabases(owner);
    await expect(
      provisionInstance(hub, postgres, { owner, name: "pg-other", storageRoot: root }, local),
    ).rejects.toThrow(/overlaps another instance's storage/);
    await expect(
      provisionInstance(
        hub,
        postgres,
        { owner: "nobody-here", name: "x", storageRoot: root },
        local,
      ),
    ).rejects.toThrow(/nobody-here/);
    await expect(
      provisionInstance(hub, postgres, { owner, name: "Bad Name", storageRoot: root }, local),
    ).rejects.toThrow(ValidationError);
    expect(await lamindbDatabases(owner)).toEqual(before);
  });

  it("a storage step that fails halfway leaves no database and no record", async () => {
    const blocker = join(tempDir(), "a-file");
    writeFileSync(blocker, "not a folder");
    const before = await lamindbDatabases(owner);
    const error = await provisionInstance(
      hub,
      postgres,
      {
        owner,
        name: "half",
        storageRoot: join(blocker, "storage"),
      },
      local,
    )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect(error).toMatchObject({ step: "storage marker" });
    expect((error as LaminError).message).toMatch(
      /provisioning '.*\/half' failed at step 'storage marker'/,
    );
    expect(await lamindbDatabases(owner)).toEqual(before);
    await expect(hub.instance(owner, "half")).rejects.toThrow(/no instance/);
  });

  it("a failed hub record undoes the database and the marker it wrote", async () => {
    const failing: Hub = Object.create(hub);
    failing.recordInstance = () => Promise.reject(new Error("hub database went away"));
    const root = join(tempDir(), "storage");
    const before = await lamindbDatabases(owner);
    const error = await provisionInstance(
      failing,
      postgres,
      {
        owner,
        name: "late",
        storageRoot: root,
      },
      local,
    )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ step: "record in hub" });
    // a driver's error is not the caller's to read: a sentence instead, the cause kept for the log
    expect((error as Error).message).toMatch(
      /record in hub': the hub could not record the instance/,
    );
    expect(((error as Error).cause as Error).message).toBe("hub database went away");
    expect(await lamindbDatabases(owner)).toEqual(before);
    expect(await openStorage(root).exists(STORAGE_MARKER_KEY)).toBe(false);
  });

  describe("on S3", () => {
    let s3: S3rverHandle;
    let onS3: StoragePolicy;
    beforeAll(async () => {
      s3 = await startS3rver({ buckets: ["lamin-prov"] });
      // the operator's areas, with the endpoint they are reached through
      onS3 = new StoragePolicy({
        allow: ["s3://lamin-prov", "s3://no-such-bucket"].map((root) => ({
          root,
          endpoint: s3.endpoint,
        })),
      });
      process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
      process.env.AWS_REGION = "us-east-1";
    });
    afterAll(async () => {
      for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"])
        delete process.env[k];
      await s3?.close();
    });

    it("provisions with an s3 root and keeps its endpoint", async () => {
      const record = await provisionInstance(
        hub,
        postgres,
        {
          owner,
          name: "s3-one",
          storageRoot: "s3://lamin-prov/one",
          storageEndpoint: s3.endpoint,
        },
        onS3,
      );
      expect(record).toMatchObject({
        storage_root: "s3://lamin-prov/one",
        storage_endpoint: s3.endpoint,
      });
      const storage = openStorage("s3://lamin-prov/one", { endpoint: s3.endpoint });
      expect(await storage.readText(STORAGE_MARKER_KEY)).toContain(`${owner}/s3-one`);
    });

    it("a bucket that does not exist: no database, no record", async () => {
      const before = await lamindbDatabases(owner);
      await expect(
        provisionInstance(
          hub,
          postgres,
          {
            owner,
            name: "s3-missing",
            storageRoot: "s3://no-such-bucket/x",
            storageEndpoint: s3.endpoint,
          },
          onS3,
        ),
      ).rejects.toThrow(/no-such-bucket/);
      expect(await lamindbDatabases(owner)).toEqual(before);
      await expect(hub.instance(owner, "s3-missing")).rejects.toThrow(/no instance/);
    });
  });

  it("deprovision drops the database and forgets the instance, keeping the storage", async () => {
    const { root, url } = await provisionAndUse(postgres, "pg-gone");
    await deprovisionInstance(hub, postgres, owner, "pg-gone");
    expect(await databaseExists(dbName(url))).toBe(false);
    await expect(hub.instance(owner, "pg-gone")).rejects.toThrow(/no instance/);
    expect(await openStorage(root).exists(STORAGE_MARKER_KEY)).toBe(true);
  });

  it("a database that exists and holds data is a conflict", async () => {
    const { url } = await provisionAndUse(postgres, "pg-data");
    await hub.deleteInstance(owner, "pg-data"); // the record goes, the database stays
    const error = await provisionInstance(
      hub,
      postgres,
      {
        owner,
        name: "pg-data",
        storageRoot: join(tempDir(), "storage"),
      },
      local,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ step: "create database", kind: "conflict" });
    // the database was not ours to drop
    expect(await databaseExists(dbName(url))).toBe(true);
  });

  it("provisionerFromEnv picks Neon, then Postgres, else says what to set", () => {
    expect(
      provisionerFromEnv({ NEON_API_KEY: "k", NEON_PROJECT_ID: "p", NEON_API_URL: neon.url }),
    ).toBeInstanceOf(NeonProvisioner);
    expect(provisionerFromEnv({ DATABASE_URL: ADMIN_URL })).toBeInstanceOf(PostgresProvisioner);
    expect(() => provisionerFromEnv({ NEON_API_KEY: "k" })).toThrow(/NEON_PROJECT_ID/);
    expect(() => provisionerFromEnv({})).toThrow(ValidationError);
  });
});
