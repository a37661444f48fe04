/**
 * The Artifact registry on each database: save, dedup, versions, folders, queries, load,
 * trash, restore, permanent delete, and bad input that must change nothing.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import {
  InsufficientStorageError,
  IntegrityError,
  type LaminError,
  ValidationError,
} from "../core/errors.js";
import { hashFile } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import {
  BACKENDS,
  createInstance,
  managedFiles,
  type TestInstance,
  tempDir,
  useTempHome,
  writeTree,
} from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("artifacts on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir();
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const file = (name: string, content: string | Uint8Array) => {
    const path = join(work, name);
    writeTree(work, { [name]: content });
    return path;
  };

  /** Rows and stored files: what "nothing changed" compares. */
  const snapshot = async () => ({
    rows: await queryRows(
      ln.db,
      sql`SELECT uid, key, branch_id, is_latest, _aux FROM lamindb_artifact ORDER BY id`,
    ),
    files: managedFiles(t.root),
  });

  it("saves a file with LaminDB's hash, suffix, uid and virtual key", async () => {
    const path = file("hello.txt", "hello world\n");
    const { artifact, status } = await ln.artifacts.save(path, {
      key: "docs/hello.txt",
      description: "greeting",
    });
    expect(status).toBe("created");
    expect(artifact).toMatchObject({
      key: "docs/hello.txt",
      description: "greeting",
      suffix: ".txt",
      size: 12,
      hash: "b1kCrCNwJL3QwXbLkwY9xA",
      hash_type: "md5",
      n_files: null,
      version: "0000",
      is_latest: true,
      branch: "main",
      storage: t.root,
      created_by: "anonymous",
      upload_complete: true,
    });
    expect(artifact.uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
    expect(artifact.path).toBe(join(t.root, ".lamindb", `${artifact.uid}.txt`));
    expect(readFileSync(artifact.path, "utf8")).toBe("hello world\n");
    const [row] = await queryRows<{
      _key_is_virtual: boolean;
      _hash_type: string;
      _overwrite_versions: boolean;
    }>(
      ln.db,
      sql`SELECT _key_is_virtual, _hash_type, _overwrite_versions FROM lamindb_artifact WHERE uid = ${artifact.uid}`,
    );
    expect(row).toEqual({ _key_is_virtual: true, _hash_type: "md5", _overwrite_versions: false });
  });

  it("returns the existing artifact for the same content, without a second copy", async () => {
    const path = file("dup.csv", "a,b\n1,2\n");
    const first = await ln.artifacts.save(path, { key: "dedup/one.csv" });
    const before = managedFiles(t.root);
    const again = await ln.artifacts.save(path, { key: "dedup/one.csv" });
    expect(again.status).toBe("existing");
    expect(again.artifact.uid).toBe(first.artifact.uid);
    // same bytes under another key: LaminDB returns the existing record and says so
    const other = await ln.artifacts.save(path, { key: "dedup/two.csv" });
    expect(other.status).toBe("existing");
    expect(other.artifact.uid).toBe(first.artifact.uid);
    expect(other.note).toMatch(/dedup\/one\.csv/);
    expect(managedFiles(t.root)).toEqual(before);
  });

  it("makes a new version when a key gets new content, and moves is_latest", async () => {
    const path = file("table.csv", "x\n1\n");
    const v0 = (await ln.artifacts.save(path, { key: "versions/table.csv" })).artifact;
    writeFileSync(path, "x\n2\n");
    const v1 = await ln.artifacts.save(path, { key: "versions/table.csv" });
    expect(v1.status).toBe("new-version");
    expect(v1.artifact.uid).toBe(`${v0.uid.slice(0, 16)}0001`);
    writeFileSync(path, "x\n3\n");
    const v2 = (await ln.artifacts.save(path, { key: "versions/table.csv", versionTag: "3.0" }))
      .artifact;
    expect(v2.uid).toBe(`${v0.uid.slice(0, 16)}0002`);
    expect(v2.version).toBe("3.0");
    const versions = await ln.artifacts.versions(v0.uid);
    expect(versions.map((v) => [v.uid.slice(16), v.is_latest])).toEqual([
      ["0002", true],
      ["0001", false],
      ["0000", false],
    ]);
    // a stem addresses the latest version; the key too
    expect((await ln.artifacts.get(v0.uid.slice(0, 16))).uid).toBe(v2.uid);
    expect((await ln.artifacts.get({ key: "versions/table.csv" })).uid).toBe(v2.uid);
    // every version keeps its own bytes
    expect(readFileSync(versions[2]?.path ?? "", "utf8")).toBe("x\n1\n");
  });

  it("rejects a version tag the previous version already has", async () => {
    const path = file("tagged.txt", "one");
    await ln.artifacts.save(path, { key: "tags/tagged.txt", versionTag: "1" });
    writeFileSync(path, "two");
    const before = await snapshot();
    await expect(
      ln.artifacts.save(path, { key: "tags/tagged.txt", versionTag: "1" }),
    ).rejects.toThrow(/version tag '1' is already used/);
    expect(await snapshot()).toEqual(before);
  });

  it("saves folders with md5-d hashes, and a new version replaces the stored folder", async () => {
    const dir = writeTree(join(work, "dir_small"), {
      "a.txt": "a",
      "sub/b.txt": "b",
      "sub/deep/c.bin": Uint8Array.from({ length: 1000 }, (_, i) => i % 251),
      ".hidden": "hidden",
    });
    const { artifact } = await ln.artifacts.save(dir, { key: "folders/dir_small" });
    expect(artifact).toMatchObject({
      hash: "9PscCIxISZTNXbAy0ZhuNQ",
      hash_type: "md5-d",
      n_files: 4,
      size: 1008,
      suffix: "",
    });
    expect(artifact.path).toBe(join(t.root, ".lamindb", artifact.uid.slice(0, 16)));
    expect(readFileSync(join(artifact.path, "sub/deep/c.bin")).length).toBe(1000);
    writeFileSync(join(dir, "a.txt"), "changed");
    const v1 = (await ln.artifacts.save(dir, { key: "folders/dir_small" })).artifact;
    expect(v1.uid).toBe(`${artifact.uid.slice(0, 16)}0001`);
    expect(v1.path).toBe(artifact.path); // folders share one prefix across versions
    expect(readFileSync(join(v1.path, "a.txt"), "utf8")).toBe("changed");
    // the old version's bytes were overwritten: loading it says so instead of returning wrong bytes
    await expect(ln.artifacts.load(artifact.uid, { to: join(work, "old") })).rejects.toThrow(
      /overwritten by a newer version/,
    );
    const loaded = await ln.artifacts.load(v1.uid, { to: join(work, "new") });
    expect(readFileSync(join(loaded.path, "a.txt"), "utf8")).toBe("changed");
  });

  it("loads bytes verified against the hash, and refuses tampered ones", async () => {
    const path = file("data.json", '{"a": 1}');
    const { artifact } = await ln.artifacts.save(path, { key: "load/data.json" });
    const out = await ln.artifacts.load({ key: "load/data.json" }, { to: join(work, "out") });
    expect(out.path).toBe(join(work, "out", "data.json"));
    expect(readFileSync(out.path, "utf8")).toBe('{"a": 1}');
    expect((await hashFile(out.path)).hash).toBe(artifact.hash);
    // default destination: the cache folder
    const cached = await ln.artifacts.load(artifact.uid);
    expect(cached.path.startsWith(process.env.LAMIN_CACHE_DIR ?? "")).toBe(true);
    writeFileSync(artifact.path, '{"a": 2}');
    const err = await ln.artifacts.load(artifact.uid, { to: join(work, "bad") }).catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(existsSync(join(work, "bad", "data.json"))).toBe(false);
    rmSync(artifact.path);
    await expect(ln.artifacts.load(artifact.uid, { to: join(work, "gone") })).rejects.toThrow(
      /missing from storage/,
    );
  });

  it("moves to trash, promotes the previous version, restores, and deletes for good", async () => {
    const path = file("life.txt", "v0");
    const v0 = (await ln.artifacts.save(path, { key: "life/cycle.txt" })).artifact;
    writeFileSync(path, "v1");
    const v1 = (await ln.artifacts.save(path, { key: "life/cycle.txt" })).artifact;
    const trashed = await ln.artifacts.delete(v1.uid);
    expect(trashed.branch).toBe("trash");
    expect((await ln.artifacts.get(v0.uid)).is_latest).toBe(true);
    const listed = await ln.artifacts.list({ filter: { key__startswith: "life/" } });
    expect(listed.items.map((a) => a.uid)).toEqual([v0.uid]);
    const inTrash = await ln.artifacts.list({ trash: true, filter: { key__startswith: "life/" } });
    expect(inTrash.items.map((a) => a.uid)).toEqual([v1.uid]);
    await expect(ln.artifacts.delete(v1.uid)).rejects.toThrow(/already in the trash/);
    const restored = await ln.artifacts.restore(v1.uid);
    expect(restored).toMatchObject({ branch: "main", is_latest: true });
    expect((await ln.artifacts.get(v0.uid)).is_latest).toBe(false);
    // permanent: row and bytes go; the previous version is the latest again
    await ln.artifacts.delete(v1.uid, { permanent: true });
    expect(existsSync(v1.path)).toBe(false);
    await expect(ln.artifacts.get(v1.uid)).rejects.toThrow(/no artifact with uid/);
    expect((await ln.artifacts.get(v0.uid)).is_latest).toBe(true);
    expect(existsSync(v0.path)).toBe(true);
  });

  it("brings content back from the trash when it is saved again under its key", async () => {
    const path = file("again.txt", "again");
    const first = (await ln.artifacts.save(path, { key: "trash/again.txt" })).artifact;
    await ln.artifacts.delete(first.uid);
    const second = await ln.artifacts.save(path, { key: "trash/again.txt" });
    expect(second.status).toBe("restored");
    expect(second.artifact).toMatchObject({ uid: first.uid, branch: "main", is_latest: true });
  });

  it("filters with the query language and pages with a cursor", async () => {
    for (let i = 0; i < 5; i++)
      await ln.artifacts.save(file(`page${i}.tsv`, `row ${i}`), { key: `paged/p${i}.tsv` });
    const all = await ln.artifacts.list({ filter: { key__startswith: "paged/" } });
    expect(all.items).toHaveLength(5);
    expect(all.items.map((a) => a.key)).toEqual([
      "paged/p4.tsv",
      "paged/p3.tsv",
      "paged/p2.tsv",
      "paged/p1.tsv",
      "paged/p0.tsv",
    ]);
    const p1 = await ln.artifacts.list({ filter: { key__startswith: "paged/" }, limit: 2 });
    const p2 = await ln.artifacts.list({
      filter: { key__startswith: "paged/" },
      limit: 2,
      cursor: p1.nextCursor ?? "",
    });
    const p3 = await ln.artifacts.list({
      filter: { key__startswith: "paged/" },
      limit: 2,
      cursor: p2.nextCursor ?? "",
    });
    expect([...p1.items, ...p2.items, ...p3.items].map((a) => a.key)).toEqual(
      all.items.map((a) => a.key),
    );
    expect(p3.nextCursor).toBeUndefined();
    const target = all.items[2];
    expect(
      (await ln.artifacts.list({ filter: { hash: target?.hash } })).items.map((a) => a.uid),
    ).toEqual([target?.uid]);
    expect(
      (await ln.artifacts.list({ filter: { suffix: ".tsv", size__gte: 5, size__lte: 5 } })).items,
    ).toHaveLength(5);
    expect(
      (await ln.artifacts.list({ filter: { key__in: "paged/p0.tsv,paged/p1.tsv" } })).items,
    ).toHaveLength(2);
    expect(
      (
        await ln.artifacts.list({
          filter: { key__endswith: "p3.tsv", created_by__handle: "anonymous" },
        })
      ).items,
    ).toHaveLength(1);
    expect(
      (
        await ln.artifacts.list({
          filter: { created_at__gt: "2999-01-01", key__startswith: "paged/" },
        })
      ).items,
    ).toHaveLength(0);
    expect(
      (await ln.artifacts.list({ filter: { key__icontains: "PAGED/P2" } })).items,
    ).toHaveLength(1);
    // LIKE wildcards in values are literal
    expect((await ln.artifacts.list({ filter: { key__startswith: "paged%" } })).items).toHaveLength(
      0,
    );
    expect((await ln.artifacts.list({ filter: { key__startswith: "paged_" } })).items).toHaveLength(
      0,
    );
  });

  it("pages through rows with equal timestamps without gaps or repeats", async () => {
    // saveMany inserts in one statement: every row gets the same created_at
    const items = Array.from({ length: 7 }, (_, i) => ({
      path: file(`tie${i}.txt`, `tie ${i}`),
      key: `ties/t${i}.txt`,
    }));
    await ln.artifacts.saveMany(items);
    for (const orderBy of ["-created_at", "created_at", "-id", "updated_at"] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ln.artifacts.list({
          filter: { key__startswith: "ties/" },
          limit: 2,
          orderBy,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items.map((a) => a.key ?? ""));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.sort(), orderBy).toEqual(items.map((i) => i.key).sort());
    }
  });

  it("rejects unknown fields, operators and ill-typed values with a ValidationError", async () => {
    const bad = [
      { nope: 1 },
      { key__regex: "x" },
      { size__gt: "big" },
      { size__contains: "1" },
      { created_at__gt: "yesterday" },
      { "key; DROP TABLE lamindb_artifact; --": "x" },
      { is_latest: "maybe" },
    ];
    for (const filter of bad) {
      const err = await ln.artifacts.list({ filter }).catch((e) => e);
      expect(err, JSON.stringify(filter)).toBeInstanceOf(ValidationError);
    }
    // injection attempts in values are just values
    expect((await ln.artifacts.list({ filter: { key: "x' OR '1'='1" } })).items).toEqual([]);
    await expect(ln.artifacts.list({ cursor: "garbage" })).rejects.toBeInstanceOf(ValidationError);
    await expect(ln.artifacts.list({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(ln.artifacts.get("not-a-uid!")).rejects.toBeInstanceOf(ValidationError);
  });

  it("rejects bad saves and leaves database and storage as they were", async () => {
    const empty = join(work, "empty-folder");
    writeTree(work, { "empty-folder/.keep-not": "" });
    rmSync(join(empty, ".keep-not"));
    const ok = file("ok.csv", "ok");
    const before = await snapshot();
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        "missing path",
        () => ln.artifacts.save(join(work, "missing.csv"), { key: "m.csv" }),
        /does not exist/,
      ],
      ["empty folder", () => ln.artifacts.save(empty, { key: "empty" }), /contains no files/],
      ["'..' in key", () => ln.artifacts.save(ok, { key: "a/../b.csv" }), /'\.\.'/],
      ["key in .lamindb/", () => ln.artifacts.save(ok, { key: ".lamindb/x.csv" }), /\.lamindb/],
      [
        "suffix mismatch",
        () => ln.artifacts.save(ok, { key: "x/ok.parquet" }),
        /ends in '\.parquet'/,
      ],
      ["no key, no description", () => ln.artifacts.save(ok), /key or a description/],
      ["backslash in key", () => ln.artifacts.save(ok, { key: "a\\ok.csv" }), /backslash/],
      [
        "bad kind",
        () => ln.artifacts.save(ok, { key: "k/ok.csv", kind: "__lamindb_run__" }),
        /invalid kind/,
      ],
    ];
    for (const [what, attempt, message] of cases) {
      const err = await attempt().catch((e) => e);
      expect(err, what).toBeInstanceOf(ValidationError);
      expect((err as Error).message, what).toMatch(message);
      expect((err as LaminError).hint, what).toBeTruthy();
    }
    expect(await snapshot()).toEqual(before);
  });

  it("saves many files in one call with the rules of save", async () => {
    const existing = file("many-existing.txt", "already here");
    await ln.artifacts.save(existing, { key: "many/existing.txt" });
    const versioned = file("many-v.txt", "old");
    await ln.artifacts.save(versioned, { key: "many/v.txt" });
    writeFileSync(versioned, "new");
    const fresh = Array.from({ length: 25 }, (_, i) => file(`many-${i}.txt`, `fresh ${i}`));
    const twin = file("many-twin.txt", "fresh 3"); // same bytes as fresh[3]
    const results = await ln.artifacts.saveMany([
      ...fresh.map((path, i) => ({ path, key: `many/f${i}.txt` })),
      { path: existing, key: "many/existing.txt" },
      { path: versioned, key: "many/v.txt" },
      { path: twin, key: "many/twin.txt" },
    ]);
    expect(results.map((r) => r.status)).toEqual([
      ...fresh.map(() => "created"),
      "existing",
      "new-version",
      "existing",
    ]);
    expect(results[25 + 1]?.artifact.version).toBe("0001");
    expect(results[25 + 2]?.artifact.uid).toBe(results[3]?.artifact.uid);
    for (const r of results) expect(r.artifact.upload_complete).toBe(true);
    for (const [i, r] of results.slice(0, 25).entries()) {
      expect(r.artifact.key).toBe(`many/f${i}.txt`);
      expect(readFileSync(r.artifact.path, "utf8")).toBe(`fresh ${i}`);
    }
    const listed = await ln.artifacts.list({ filter: { key__startswith: "many/f" }, limit: 100 });
    expect(listed.items).toHaveLength(25);
  });

  it("checks every path of saveMany before writing anything", async () => {
    const good = file("batch-good.txt", "good");
    const before = await snapshot();
    const err = await ln.artifacts
      .saveMany([
        { path: good, key: "batch/good.txt" },
        { path: good, key: "batch/../escape.txt" },
      ])
      .catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(await snapshot()).toEqual(before);
  });

  it("undoes the row when the bytes cannot be written", async () => {
    const path = file("unwritable.txt", "cannot copy me");
    const before = await snapshot();
    const original = ln.storage.putFile.bind(ln.storage);
    ln.storage.putFile = async () => {
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    };
    try {
      const err = await ln.artifacts.save(path, { key: "fail/unwritable.txt" }).catch((e) => e);
      expect(err).toBeInstanceOf(InsufficientStorageError);
      expect(err.message).toMatch(/could not write .* the disk is full \(ENOSPC\)/);
      expect(err.hint).toMatch(/nothing was registered/);
    } finally {
      ln.storage.putFile = original;
    }
    expect(await snapshot()).toEqual(before);
  });
});
