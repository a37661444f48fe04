/**
 * Blocks (LaminDB's `Block` and the `*Block` models, models/block.py): the instance's README
 * (a Block with key README.md: versioned by key, the same content is the same block), READMEs
 * and comments of records of every registry through one mechanism (core/registry/blocks/record-blocks.ts:
 * a readme is versioned and never deduplicated, a comment is always new), edit and delete, in
 * process on PGlite and Postgres, over HTTP and through the built CLI. Bad input changes nothing,
 * and a block is only ever reached through the record it belongs to.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { createApp } from "../functions/api/app.js";
import { RemoteInstance } from "../sdk/remote.js";
import {
  BACKENDS,
  createInstance,
  expectRefusal,
  laminIn,
  snapshotTables,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

useTempHome();

/** Every block table: what a refused call must leave as it was. */
const BLOCK_TABLES = [
  "lamindb_block",
  "lamindb_artifactblock",
  "lamindb_transformblock",
  "lamindb_collectionblock",
  "lamindb_runblock",
  "lamindb_recordblock",
  "lamindb_featureblock",
  "lamindb_schemablock",
  "lamindb_projectblock",
  "lamindb_ulabelblock",
  "lamindb_spaceblock",
  "lamindb_branchblock",
];

/** What a call throws (or undefined). */
const thrown = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe.each(BACKENDS)("blocks on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let app: ReturnType<typeof createApp>;
  const send = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: "Bearer tok", "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  let n = 0;
  const saveArtifact = async (key = `f${n}.csv`) => {
    const file = join(work, key);
    writeFileSync(file, `a,b\n${n++},${key}\n`);
    return (await ln.artifacts.save(file, { key })).artifact;
  };

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    app = createApp({ instance: () => ln, authorize: (token) => token === "tok" });
    work = tempDir();
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("the instance README: versioned by key, the same content is the same block", async () => {
    expect(await ln.blocks.readme()).toBeNull();
    const v1 = await ln.blocks.setReadme("# Lab\n\nv1");
    expect(v1.status).toBe("created");
    expect(v1.record).toMatchObject({
      key: "README.md",
      kind: "readme",
      content: "# Lab\n\nv1",
      version: "0000",
      is_latest: true,
    });
    expect(v1.record.uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
    // the same content again: the same block (LaminDB's hash lookup)
    const again = await ln.blocks.setReadme("# Lab\n\nv1");
    expect(again).toMatchObject({ status: "existing", record: { uid: v1.record.uid } });
    const v2 = await ln.blocks.setReadme("# Lab\n\nv2", { version_tag: "2" });
    expect(v2.status).toBe("new-version");
    expect(v2.record.uid.slice(0, 16)).toBe(v1.record.uid.slice(0, 16));
    expect(v2.record).toMatchObject({ version: "2", version_tag: "2", is_latest: true });
    expect((await ln.blocks.get(v1.record.uid)).is_latest).toBe(false);
    expect((await ln.blocks.readme())?.content).toBe("# Lab\n\nv2");
    // a stem names the latest version
    expect((await ln.blocks.get(v1.record.uid.slice(0, 16))).uid).toBe(v2.record.uid);
    const history = await ln.blocks.list({ filter: { key: "README.md" } });
    expect(history.items.map((b) => b.uid)).toEqual([v2.record.uid, v1.record.uid]);
  });

  it("a blank block is filled, revises and anchor name blocks, and LaminDB's refusals write nothing", async () => {
    const blank = await ln.blocks.create({ key: "__lamindb_artifact__", kind: "readme" });
    expect(blank.record).toMatchObject({ content: "", hash: null });
    const filled = await ln.blocks.create({
      key: "__lamindb_artifact__",
      content: "Artifacts are files.",
    });
    expect(filled).toMatchObject({ status: "existing", record: { uid: blank.record.uid } });
    expect(filled.record.hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const next = await ln.blocks.create({
      revises: blank.record.uid,
      content: "Artifacts are files and folders.",
    });
    expect(next).toMatchObject({ status: "new-version", record: { key: "__lamindb_artifact__" } });
    const reply = await ln.blocks.create({ content: "A sub-page", anchor: next.record.uid });
    expect(reply.record).toMatchObject({ key: null, anchor: next.record.uid });

    const before = await snapshotTables(ln.db, BLOCK_TABLES);
    const cases: [unknown, RegExp][] = [
      [{ key: "notes.md", content: "x" }, /invalid block key 'notes.md'/],
      [{ key: "README.md", content: "x", kind: "comment" }, /invalid block kind "comment"/],
      [{ content: "x", anchor: "AAAAAAAAAAAAAAAAAAAA" }, /no block with uid/],
      [{ content: "x", revises: "not-a-uid" }, /a block uid has 20/],
      [{ content: 3 }, /content must be a string/],
      [{ content: "x", colour: "red" }, /unknown field 'colour'/],
      [{ key: "README.md", content: "x", version_tag: "2" }, /version tag '2' is already used/],
    ];
    for (const [input, message] of cases) {
      const error = await thrown(ln.blocks.create(input as never));
      expect(error, JSON.stringify(input)).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(message);
    }
    expect(await snapshotTables(ln.db, BLOCK_TABLES)).toBe(before);
  });

  it("delete moves a block to the trash and its previous version becomes the latest", async () => {
    const a = await ln.blocks.create({ key: "__lamindb_run__", content: "runs v1" });
    const b = await ln.blocks.create({ key: "__lamindb_run__", content: "runs v2" });
    const anchored = await ln.blocks.create({ content: "hangs on v1", anchor: a.record.uid });
    expect((await ln.blocks.delete(b.record.uid)).uid).toBe(b.record.uid);
    expect(await ln.blocks.get(b.record.uid)).toMatchObject({ branch: "trash", is_latest: false });
    expect(await ln.blocks.get(a.record.uid)).toMatchObject({ is_latest: true });
    // the same content again after the trash: a new version (the trash does not count)
    const c = await ln.blocks.create({ key: "__lamindb_run__", content: "runs v2" });
    expect(c.status).toBe("new-version");
    expect(c.record.uid).not.toBe(b.record.uid);
    // a block others hang on cannot go for good; the trash is fine
    const before = await snapshotTables(ln.db, BLOCK_TABLES);
    expect(await thrown(ln.blocks.delete(a.record.uid, { permanent: true }))).toBeInstanceOf(
      ConflictError,
    );
    expect(await snapshotTables(ln.db, BLOCK_TABLES)).toBe(before);
    await ln.blocks.delete(anchored.record.uid, { permanent: true });
    await ln.blocks.delete(a.record.uid, { permanent: true });
    expect(await thrown(ln.blocks.get(a.record.uid))).toBeInstanceOf(NotFoundError);
  });

  it("an artifact's README is versioned, its comments are not; blocks list newest first", async () => {
    const art = await saveArtifact();
    const r1 = await ln.ablocks.add("artifact", art.uid, { kind: "readme", content: "same" });
    const r2 = await ln.ablocks.add("artifacts", art.uid, { kind: "readme", content: "same" });
    // a readme is never deduplicated: the same content is its next version
    expect(r2.status).toBe("new-version");
    expect(r2.record.uid.slice(0, 16)).toBe(r1.record.uid.slice(0, 16));
    expect(r2.record).toMatchObject({ registry: "artifact", record: art.uid, version: "0001" });
    const c1 = await ln.ablocks.add("artifact", art.uid, { kind: "comment", content: "nice" });
    const c2 = await ln.ablocks.add("artifact", art.uid, { kind: "comment", content: "nice" });
    expect(c2.record.uid.slice(0, 16)).not.toBe(c1.record.uid.slice(0, 16));
    const list = await ln.ablocks.list("artifact", art.uid);
    expect(list.items.map((b) => b.uid)).toEqual([c2.record.uid, c1.record.uid, r2.record.uid]);
    const all = await ln.ablocks.list("artifact", art.uid, { kind: "readme", allVersions: true });
    expect(all.items.map((b) => b.uid)).toEqual([r2.record.uid, r1.record.uid]);
    // paging
    const first = await ln.ablocks.list("artifact", art.uid, { limit: 2 });
    expect(first.items).toHaveLength(2);
    const rest = await ln.ablocks.list("artifact", art.uid, { limit: 2, cursor: first.nextCursor });
    expect(rest.items.map((b) => b.uid)).toEqual([r2.record.uid]);
    expect((await ln.ablocks.readme("artifact", art.uid.slice(0, 16)))?.uid).toBe(r2.record.uid);

    // edit: a readme gets its next version, a comment changes in place
    const r3 = await ln.ablocks.edit("artifact", art.uid, r2.record.uid, { content: "better" });
    expect(r3).toMatchObject({
      status: "new-version",
      record: { version: "0002", is_latest: true },
    });
    const c1b = await ln.ablocks.edit("artifact", art.uid, c1.record.uid, { content: "very nice" });
    expect(c1b.record).toMatchObject({ uid: c1.record.uid, content: "very nice" });
    // deleting the latest readme: its previous version is the latest again
    await ln.ablocks.delete("artifact", art.uid, r3.record.uid);
    expect((await ln.ablocks.readme("artifact", art.uid))?.uid).toBe(r2.record.uid);
    await ln.ablocks.delete("artifact", art.uid, c2.record.uid);
    expect((await ln.ablocks.list("artifact", art.uid)).items.map((b) => b.uid)).toEqual([
      c1.record.uid,
      r2.record.uid,
    ]);
  });

  it("every registry with a block table gets readmes and comments the same way", async () => {
    const art = await saveArtifact();
    const transform = (await ln.transforms.create({ key: "blocks.py", source_code: "x=1" })).record;
    const owners: [string, string][] = [
      ["artifact", art.uid],
      ["collection", (await ln.collections.create({ key: "c", artifacts: [art.uid] })).record.uid],
      ["transform", transform.uid],
      ["run", (await ln.runs.create({ transform: transform.uid })).record.uid],
      ["record", (await ln.records.create({ name: "sample" })).record.uid],
      ["feature", (await ln.features.create({ name: "n", dtype: "int" })).record.uid],
      ["schema", (await ln.schemas.create({ name: "s", features: ["n"] })).record.uid],
      ["project", (await ln.projects.create({ name: "P" })).record.uid],
      ["ulabel", (await ln.ulabels.create({ name: "L" })).record.uid],
      ["space", "all"],
      ["branch", "main"],
    ];
    for (const [registry, uid] of owners) {
      const readme = await ln.ablocks.add(registry, uid, {
        kind: "readme",
        content: `# ${registry}`,
      });
      await ln.ablocks.add(registry, uid, { kind: "comment", content: "a comment" });
      const blocks = await ln.ablocks.list(registry, uid);
      expect(
        blocks.items.map((b) => b.kind),
        registry,
      ).toEqual(["comment", "readme"]);
      expect(readme.record.registry).toBe(registry);
    }
    // a comment on a line of a transform's source
    const line = await ln.ablocks.add("transform", transform.uid, {
      kind: "comment",
      content: "why 1?",
      line_number: 1,
    });
    expect(line.record.line_number).toBe(1);
  });

  it("a block is reached only through its own record; bad input changes nothing", async () => {
    const a = await saveArtifact();
    const b = await saveArtifact();
    const block = (await ln.ablocks.add("artifact", a.uid, { kind: "comment", content: "mine" }))
      .record;
    const before = await snapshotTables(ln.db, BLOCK_TABLES);
    // through another artifact: not found, nothing changed
    const viaOther = await thrown(ln.ablocks.edit("artifact", b.uid, block.uid, { content: "x" }));
    expect(viaOther).toBeInstanceOf(NotFoundError);
    expect(viaOther?.message).toMatch(/no block .* on this artifact/);
    expect(await thrown(ln.ablocks.delete("artifact", b.uid, block.uid))).toBeInstanceOf(
      NotFoundError,
    );
    // through another registry holding the same uid text
    expect(await thrown(ln.ablocks.delete("collection", a.uid, block.uid))).toBeInstanceOf(
      NotFoundError,
    );
    const refused: [() => Promise<unknown>, RegExp][] = [
      [
        () => ln.ablocks.add("users", a.uid, { kind: "comment" }),
        /records of 'users' have no blocks/,
      ],
      [() => ln.ablocks.add("artifact", a.uid, { kind: "note" as never }), /invalid block kind/],
      [() => ln.ablocks.add("artifact", a.uid, { content: "x" } as never), /needs a kind/],
      [
        () => ln.ablocks.add("artifact", a.uid, { kind: "comment", line_number: 3 }),
        /blocks have no line_number/,
      ],
      [
        () => ln.ablocks.add("artifact", a.uid, { kind: "comment", version_tag: "1" }),
        /a comment has no versions/,
      ],
      [
        () => ln.ablocks.add("artifact", a.uid, { kind: "readme", x: 1 } as never),
        /unknown field 'x'/,
      ],
      [
        () => ln.ablocks.add("artifact", "AAAAAAAAAAAAAAAA", { kind: "readme" }),
        /no artifact with uid/,
      ],
      [() => ln.ablocks.edit("artifact", a.uid, "short", { content: "x" }), /is not a block uid/],
    ];
    for (const [call, message] of refused) {
      const error = await thrown(call());
      expect(error).toBeDefined();
      expect(error?.message).toMatch(message);
      expect(error instanceof ValidationError || error instanceof NotFoundError).toBe(true);
    }
    expect(await snapshotTables(ln.db, BLOCK_TABLES)).toBe(before);
  });

  it("over HTTP and the SDK: the README, a record's blocks, and problems that change nothing", async () => {
    const remote = new RemoteInstance("http://api.test", {
      token: "tok",
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        app.request(input, init)) as typeof fetch,
    });
    const readme = await remote.blocks.setReadme("# Served\n");
    expect(readme.status).toMatch(/created|new-version/);
    expect((await remote.blocks.readme())?.content).toBe("# Served\n");
    expect((await remote.blocks.setReadme("# Served\n")).status).toBe("existing");

    const art = await saveArtifact();
    const r1 = await remote.ablocks.add("artifact", art.uid, { kind: "readme", content: "v1" });
    expect(r1).toMatchObject({
      status: "created",
      record: { registry: "artifact", record: art.uid },
    });
    const r2 = await remote.ablocks.edit("artifacts", art.uid, r1.record.uid, { content: "v2" });
    expect(r2).toMatchObject({ status: "new-version", record: { content: "v2", version: "0001" } });
    const c = await remote.ablocks.add("artifact", art.uid, { kind: "comment", content: "hi" });
    const listed = await remote.ablocks.list("artifact", art.uid, { allVersions: true });
    expect(listed.items.map((b) => b.uid)).toEqual([c.record.uid, r2.record.uid, r1.record.uid]);
    expect((await remote.ablocks.readme("artifact", art.uid))?.content).toBe("v2");
    expect((await remote.ablocks.delete("artifact", art.uid, c.record.uid)).uid).toBe(c.record.uid);
    // a branch by name, a space by name
    await remote.ablocks.add("branch", "main", { kind: "comment", content: "on main" });
    expect((await remote.ablocks.list("branches", "main")).items[0]?.content).toBe("on main");
    // the blocks of a project, linked to it from the project
    const block = (await remote.blocks.create({ key: "__lamindb_project__", content: "Projects" }))
      .record;
    const project = (await ln.projects.create({ name: "Block project" })).record;
    const linked = await remote.projects.link(project.uid, "blocks", [block.uid]);
    expect(linked.blocks).toEqual([block.uid]);
    expect((await remote.blocks.get(block.uid)).projects).toEqual([project.uid]);
    expect((await remote.blocks.delete(block.uid)).uid).toBe(block.uid);
    expect((await remote.blocks.get(block.uid)).branch).toBe("trash");

    // problems: nothing written
    const other = await saveArtifact();
    const before = await snapshotTables(ln.db, BLOCK_TABLES);
    const problems: [string, string, unknown, number, RegExp][] = [
      ["POST", "/blocks", { key: "notes.md", content: "x" }, 400, /invalid block key/],
      ["POST", "/blocks", { content: "x", kind: "comment" }, 400, /kind/],
      ["POST", `/blocks/users/${art.uid}`, { kind: "comment" }, 400, /registry/],
      ["POST", `/blocks/artifacts/${art.uid}`, { kind: "note" }, 400, /kind/],
      [
        "POST",
        `/blocks/artifacts/${art.uid}`,
        { kind: "comment", line_number: 2 },
        400,
        /line_number/,
      ],
      ["POST", "/blocks/artifacts/AAAAAAAAAAAAAAAA", { kind: "comment" }, 404, /no artifact/],
      [
        "PATCH",
        `/blocks/artifacts/${other.uid}/${r2.record.uid}`,
        { content: "x" },
        404,
        /no block/,
      ],
      ["DELETE", `/blocks/artifacts/${other.uid}/${r2.record.uid}`, undefined, 404, /no block/],
      [
        "DELETE",
        `/blocks/collections/${art.uid}/${r2.record.uid}`,
        undefined,
        404,
        /no collection/,
      ],
      ["PATCH", `/blocks/artifacts/${art.uid}/xyz`, { content: "x" }, 400, /block uid/],
    ];
    for (const [method, path, body, status, message] of problems) {
      const res = await send(method, path, body);
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(text, `${method} ${path}`).toMatch(message);
    }
    expect(await snapshotTables(ln.db, BLOCK_TABLES)).toBe(before);
    const registries = (await (await send("GET", "/registries")).json()) as { plural: string }[];
    expect(registries.map((r) => r.plural)).toContain("blocks");
  });
});

describe("lamin readme / block", () => {
  const work = tempDir("lamin-blocks-cli-");
  const { run, json } = laminIn(work);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("writes and shows the instance's README and a record's, comments, edits, deletes; bad input is refused", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    const readmeFile = join(work, "README.md");
    writeFileSync(readmeFile, "# Our lab\n\nData of the lab.\n");
    expectRefusal(await run("readme", "show"), 3, /no README/);
    const set = await json<{ uid: string; key: string; status: string }>(
      "readme",
      "set",
      readmeFile,
    );
    expect(set).toMatchObject({ key: "README.md", status: "created" });
    expect((await run("readme", "show")).stdout).toBe("# Our lab\n\nData of the lab.\n");
    expect((await run("readme", "set", readmeFile)).stdout).toMatch(
      /^exists: README of the instance/,
    );
    const v2 = await json<{ uid: string; version: string }>("readme", "set", "--text", "# v2");
    expect(v2.uid.slice(0, 16)).toBe(set.uid.slice(0, 16));
    expect((await run("readme", "show")).stdout).toBe("# v2\n");

    writeFileSync(join(work, "a.csv"), "a\n1\n");
    const a = await json<{ uid: string }>("save", join(work, "a.csv"), "--key", "raw/a.csv");
    const r = await json<{ uid: string; registry: string }>(
      "readme",
      "set",
      "--artifact",
      a.uid,
      "--text",
      "# About a.csv",
    );
    expect(r.registry).toBe("artifact");
    const c = await json<{ uid: string }>(
      "block",
      "comment",
      "--artifact",
      a.uid,
      "--text",
      "looks good",
    );
    expect((await run("readme", "show", "--artifact", a.uid)).stdout).toBe("# About a.csv\n");
    const listed = await json<{ uid: string; kind: string }[]>(
      "block",
      "list",
      "--artifact",
      a.uid,
    );
    expect(listed.map((b) => [b.uid, b.kind])).toEqual([
      [c.uid, "comment"],
      [r.uid, "readme"],
    ]);
    const edited = await json<{ uid: string; status: string; version: string }>(
      "block",
      "edit",
      r.uid,
      "--artifact",
      a.uid,
      "--text",
      "# About a.csv, v2",
    );
    expect(edited).toMatchObject({ status: "new-version", version: "0001" });
    expect((await run("block", "delete", c.uid, "--artifact", a.uid)).stdout).toMatch(
      /deleted block/,
    );
    expect((await run("block", "list", "--artifact", a.uid)).stdout).toMatch(/About a.csv, v2/);
    // the branch main by name
    expect((await run("block", "comment", "--branch", "main", "--text", "hello")).code).toBe(0);
    // the instance's blocks
    expect((await run("block", "list")).stdout).toMatch(/README\.md/);

    expectRefusal(await run("readme", "set"), 2, /give a FILE or --text/);
    expectRefusal(await run("readme", "set", join(work, "missing.md")), 2, /no such file/);
    expectRefusal(
      await run("readme", "set", readmeFile, "--text", "x"),
      2,
      /give a FILE or --text, not both/,
    );
    expectRefusal(await run("block", "comment", "--text", "x"), 2, /which record/);
    expectRefusal(
      await run("block", "comment", "--artifact", a.uid, "--transform", "x", "--text", "x"),
      2,
      /name one record/,
    );
    expectRefusal(
      await run("block", "comment", "--artifact", "AAAAAAAAAAAAAAAA", "--text", "x"),
      3,
      /no artifact with uid AAAAAAAAAAAAAAAA/,
    );
    expectRefusal(
      await run("block", "comment", "--artifact", a.uid, "--text", "x", "--line", "3"),
      2,
      /no line_number/,
    );
    expectRefusal(
      await run("block", "edit", edited.uid, "--collection", a.uid, "--text", "x"),
      3,
      /no collection/,
    );
    expect((await json<unknown[]>("block", "list", "--artifact", a.uid)).length).toBe(1);
  });
});
