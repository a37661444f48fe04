/**
 * Collections: hash = hash_set of member hashes (vector `collection_hash_set`), the same members
 * return the existing collection, new members under a key make the next version, members in
 * order, get by key, load every member verified, runs (outputs, inputs), bad input leaving the
 * database unchanged, and the CLI's `lamin collection`.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { NotFoundError, ValidationError } from "../core/errors.js";
import { hashSet } from "../core/hash.js";
import { openInstance } from "../core/setup.js";
import { createApp } from "../functions/api/app.js";
import {
  BACKENDS,
  createInstance,
  lamin,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

const home = useTempHome();

const vectors = JSON.parse(readFileSync("/work/shared/reference/hash_vectors.json", "utf8")) as {
  vectors: { name: string; hash: string }[];
};
const SET_VECTOR = (
  vectors.vectors.find((v) => v.name === "collection_hash_set") as {
    hash: string;
  }
).hash;

describe.each(BACKENDS)("collections on %s", (backend) => {
  let t: TestInstance;
  let work: string;
  const uid: Record<string, string> = {};

  beforeAll(async () => {
    t = await createInstance(backend);
    work = tempDir();
    // members whose hashes are those of the vector: md5 of "a", "b" and "abc"
    for (const name of ["a", "b", "abc", "d"]) {
      const path = join(work, `${name}.txt`);
      writeFileSync(path, name);
      uid[name] = (await t.instance.artifacts.save(path, { key: `c/${name}.txt` })).artifact.uid;
    }
  });
  afterAll(async () => {
    await t?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const ln = () => t.instance;
  const count = async (table: string) =>
    (await queryRows<{ n: number }>(ln().db, sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]
      ?.n;
  const counts = async () => ({
    collections: await count("lamindb_collection"),
    members: await count("lamindb_collectionartifact"),
    inputs: await count("lamindb_collection_input_of_runs"),
  });

  it("hashes the members like LaminDB and returns the existing collection for the same members", async () => {
    expect(
      hashSet(["DMF1ucDxtqgxw5niaXcmYQ", "kutf_uauL-w61xx3dTFXjw", "kAFQmDzST7DWlj99KOF_cg"]),
    ).toBe(SET_VECTOR);
    const first = await ln().collections.create({
      key: "sets/abc",
      artifacts: [uid.a as string, uid.b as string, uid.abc as string],
    });
    expect(first.status).toBe("created");
    expect(first.record).toMatchObject({ key: "sets/abc", hash: SET_VECTOR, version: "0000" });
    const same = await ln().collections.create({
      key: "sets/abc",
      artifacts: [uid.abc as string, uid.a as string, uid.b as string],
    });
    expect(same.status).toBe("existing");
    expect(same.record.uid).toBe(first.record.uid);
  });

  it("versions by key and lists members in order", async () => {
    const v1 = await ln().collections.get({ key: "sets/abc" });
    const next = await ln().collections.create({
      key: "sets/abc",
      artifacts: [uid.d as string, uid.a as string],
    });
    expect(next.status).toBe("new-version");
    expect(next.record.uid).toBe(`${v1.uid.slice(0, 16)}0001`);
    expect(next.record.is_latest).toBe(true);
    expect((await ln().collections.get(v1.uid)).is_latest).toBe(false);
    expect((await ln().collections.get({ key: "sets/abc" })).uid).toBe(next.record.uid);
    expect((await ln().collections.get(v1.uid.slice(0, 16))).uid).toBe(next.record.uid);
    const members = await ln().collections.members({ key: "sets/abc" });
    expect(members.map((m) => m.uid)).toEqual([uid.d, uid.a]);
    expect((await ln().collections.members(v1.uid)).map((m) => m.key)).toEqual([
      "c/a.txt",
      "c/b.txt",
      "c/abc.txt",
    ]);
  });

  it("answers GET /collections/{uid}/members", async () => {
    const app = createApp({ instance: () => ln(), authorize: (token) => token === "tok" });
    const get = (path: string) => app.request(path, { headers: { authorization: "Bearer tok" } });
    const latest = await ln().collections.get({ key: "sets/abc" });
    const res = await get(`/collections/${latest.uid}/members`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { uid: string; key: string }[];
    expect(body.map((a) => a.uid)).toEqual([uid.d, uid.a]);
    expect((await get("/collections/0000000000000000zzzz/members")).status).toBe(404);
    expect((await get("/collections/bad/members")).status).toBe(400);
  });

  it("loads every member, verified, into a folder", async () => {
    const dir = join(work, "out");
    const { collection, files } = await ln().collections.load({ key: "sets/abc" }, { to: dir });
    expect(collection.key).toBe("sets/abc");
    expect(files.map((f) => f.uid)).toEqual([uid.d, uid.a]);
    expect(files.map((f) => readFileSync(f.path, "utf8"))).toEqual(["d", "a"]);
    // without a folder: the cache, by key
    const cached = await ln().collections.load({ key: "sets/abc" });
    expect(cached.files[0]?.path).toMatch(/c\/d\.txt$/);
  });

  it("belongs to runs: created by one, read by another", async () => {
    const script = join(work, "collect.sh");
    writeFileSync(script, "echo collect\n");
    const { run: maker } = await ln().track({ path: script, captureProcess: false });
    const made = await ln().collections.create({
      key: "sets/run",
      artifacts: [uid.b as string, uid.d as string],
    });
    await ln().collections.load(made.record.uid, { to: join(work, "self") }); // its own: no input
    await ln().finish();
    const reader = join(work, "read.sh");
    writeFileSync(reader, "echo read\n");
    const { run: user } = await ln().track({ path: reader, captureProcess: false });
    await ln().collections.load(made.record.uid, { to: join(work, "read") });
    await ln().finish();
    const [row] = await queryRows<{ run: string }>(
      ln().db,
      sql`SELECT r.uid AS run FROM lamindb_collection c JOIN lamindb_run r ON r.id = c.run_id
        WHERE c.uid = ${made.record.uid}`,
    );
    expect(row?.run).toBe(maker.uid);
    const readers = await queryRows<{ run: string }>(
      ln().db,
      sql`SELECT r.uid AS run FROM lamindb_collection_input_of_runs i
        JOIN lamindb_collection c ON c.id = i.collection_id JOIN lamindb_run r ON r.id = i.run_id
        WHERE c.uid = ${made.record.uid}`,
    );
    expect(readers.map((r) => r.run)).toEqual([user.uid]);
    // collecting artifacts makes them inputs of the run (LaminDB's rule)
    const inputs = await queryRows<{ uid: string }>(
      ln().db,
      sql`SELECT a.uid FROM lamindb_artifact_input_of_runs i
        JOIN lamindb_artifact a ON a.id = i.artifact_id JOIN lamindb_run r ON r.id = i.run_id
        WHERE r.uid = ${maker.uid} ORDER BY a.uid`,
    );
    expect(inputs.map((r) => r.uid)).toEqual([uid.b, uid.d].sort());
    // loading a collection makes the collection the input, not each member (LaminDB's cache())
    const readerInputs = await queryRows<{ uid: string }>(
      ln().db,
      sql`SELECT a.uid FROM lamindb_artifact_input_of_runs i
        JOIN lamindb_artifact a ON a.id = i.artifact_id JOIN lamindb_run r ON r.id = i.run_id
        WHERE r.uid = ${user.uid}`,
    );
    expect(readerInputs).toEqual([]);
  });

  it("refuses bad input and changes nothing", async () => {
    const before = await counts();
    await expect(ln().collections.create({ key: "bad", artifacts: [] })).rejects.toThrow(
      ValidationError,
    );
    await expect(
      ln().collections.create({ key: "bad", artifacts: ["0000000000000000zzzz"] }),
    ).rejects.toThrow(/no artifact with uid/);
    await expect(ln().collections.create({ key: "bad", artifacts: ["not-a-uid"] })).rejects.toThrow(
      ValidationError,
    );
    // declared but never uploaded: not saved
    const pending = await ln().artifacts.prepareUpload({
      name: "p.txt",
      key: "c/pending.txt",
      size: 7,
      hash: "AAAAAAAAAAAAAAAAAAAAAA",
      hash_type: "md5",
    });
    await expect(
      ln().collections.create({ key: "bad", artifacts: [pending.artifact.uid] }),
    ).rejects.toThrow(/never completely written/);
    await expect(ln().collections.get({ key: "nope" })).rejects.toThrow(NotFoundError);
    await expect(ln().collections.members("0000000000000000zzzz")).rejects.toThrow(NotFoundError);
    // two members with the same file name cannot share a folder
    const other = join(work, "x");
    writeFileSync(join(work, "a2.txt"), "a-other");
    const dup = (await ln().artifacts.save(join(work, "a2.txt"), { key: "other/a.txt" })).artifact;
    const clash = await ln().collections.create({
      key: "sets/clash",
      artifacts: [uid.a as string, dup.uid],
    });
    await expect(ln().collections.load(clash.record.uid, { to: other })).rejects.toThrow(
      /both named 'a.txt'/,
    );
    const after = await counts();
    expect(after).toEqual({
      ...before,
      collections: (before.collections ?? 0) + 1,
      members: (before.members ?? 0) + 2,
    });
  });

  describe("with the CLI", () => {
    beforeAll(async () => {
      await t.instance.close(); // the embedded database is held by one process at a time
    });
    afterAll(async () => {
      t.instance = await openInstance(t.name);
    });
    const cli = (args: string[]) =>
      lamin(args, { cwd: work, env: { LAMIN_HOME: home, LAMIN_INSTANCE: t.name } });

    it("creates, lists members and loads", async () => {
      const created = await cli([
        "collection",
        "create",
        "cli/set",
        uid.a as string,
        uid.b as string,
        "--json",
      ]);
      expect(created.code, created.stderr).toBe(0);
      const c = JSON.parse(created.stdout);
      expect(c).toMatchObject({ key: "cli/set", status: "created", artifacts: [uid.a, uid.b] });
      const members = await cli(["collection", "members", "cli/set", "--json"]);
      expect(JSON.parse(members.stdout).members.map((m: { uid: string }) => m.uid)).toEqual([
        uid.a,
        uid.b,
      ]);
      const loaded = await cli(["collection", "load", c.uid, "--to", join(work, "cli"), "--json"]);
      expect(loaded.code, loaded.stderr).toBe(0);
      expect(JSON.parse(loaded.stdout).files).toHaveLength(2);
      const bad = await cli(["collection", "create", "cli/none", "0000000000000000zzzz"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/no artifact with uid/);
      const missing = await cli(["collection", "members", "cli/none"]);
      expect(missing.code).toBe(3);
    });
  });
});
