/**
 * References (LaminDB's `Reference`), declared once (core/registry/records/references.ts): create
 * with LaminDB's rules (name match under a type, DOI validator, dates), links to artifacts,
 * collections, transforms, records and projects in process and over HTTP, and bad input that
 * changes nothing. The link machinery is the models' generic one (core/registry/model/model.ts).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError, ValidationError } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { createApp } from "../functions/api/app.js";
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

describe.each(BACKENDS)("references on %s", (backend) => {
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

  it("creates a reference as LaminDB does: the same name under the same type is the same one", async () => {
    const paper = await ln.references.create({ name: "Paper", is_type: true });
    const made = await ln.references.create({
      name: "A paper title",
      abbr: "APT",
      url: "https://doi.org/10.1000/xyz123",
      pubmed_id: 12345678,
      doi: "10.1000/xyz123",
      date: "2023-11-21",
      text: "Some text I want to be searchable.",
      type: "Paper",
    });
    expect(made.status).toBe("created");
    expect(made.record).toMatchObject({
      name: "A paper title",
      doi: "10.1000/xyz123",
      pubmed_id: 12345678,
      date: "2023-11-21",
      type: paper.record.uid,
      artifacts: [],
      projects: [],
    });
    const again = await ln.references.create({ name: "A paper title", type: paper.record.uid });
    expect(again).toMatchObject({ status: "existing", record: { uid: made.record.uid } });
    const hits = await ln.references.list({ filter: { doi__startswith: "10.1000/" } });
    expect(hits.items.map((r) => r.uid)).toEqual([made.record.uid]);
    expect((await ln.references.list({ filter: { type__name: "Paper" } })).items).toHaveLength(1);
  });

  it("refuses what LaminDB refuses, and writes nothing", async () => {
    const before = await snapshotTables(ln.db, ["lamindb_reference"]);
    const cases: [unknown, RegExp][] = [
      [{ name: "x", doi: "not-a-doi" }, /DOI/],
      [{ name: "x", url: "ftp://x" }, /invalid url/],
      [{ name: "x", date: "21.11.2023" }, /YYYY-MM-DD/],
      [{ name: "x", date: "2023-02-30" }, /invalid date|real date/],
      [{ name: "x", pubmed_id: "12" }, /pubmed_id must be an integer/],
      [{ name: "" }, /needs a name/],
      [{ name: "x", type: "NoSuchType" }, /no reference type named/],
      [{ name: "x", venue: "y" }, /unknown field 'venue'/],
    ];
    for (const [input, message] of cases) {
      const error = await ln.references.create(input as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(message);
    }
    expect(await snapshotTables(ln.db, ["lamindb_reference"])).toEqual(before);
  });

  it("links to artifacts, collections, transforms, records and projects, and unlinks", async () => {
    const file = join(work, "cited.csv");
    writeFileSync(file, "a,b\n1,2\n");
    const artifact = (await ln.artifacts.save(file, { key: "cited.csv" })).artifact;
    const collection = (await ln.collections.create({ key: "cited", artifacts: [artifact.uid] }))
      .record;
    const transform = (await ln.transforms.create({ key: "cite.py", source_code: "x" })).record;
    const record = (await ln.records.create({ name: "sample 1" })).record;
    const project = (await ln.projects.create({ name: "Atlas" })).record;
    const ref = (await ln.references.create({ name: "Cited paper" })).record;

    // a stem names the latest version
    await ln.references.link(ref.uid, "artifacts", [artifact.uid.slice(0, 16)]);
    await ln.references.link(ref.uid, "collections", [collection.uid]);
    await ln.references.link(ref.uid, "transforms", [transform.uid]);
    await ln.references.link(ref.uid, "records", [record.uid]);
    const linked = await ln.references.link(ref.uid, "projects", [project.uid, project.uid]);
    expect(linked).toMatchObject({
      artifacts: [artifact.uid],
      collections: [collection.uid],
      transforms: [transform.uid],
      records: [record.uid],
      projects: [project.uid],
    });
    // linking again keeps one link
    expect((await ln.references.link(ref.uid, "artifacts", [artifact.uid])).artifacts).toEqual([
      artifact.uid,
    ]);
    const unlinked = await ln.references.unlink(ref.uid, "artifacts", [artifact.uid]);
    expect(unlinked.artifacts).toEqual([]);
    expect(unlinked.projects).toEqual([project.uid]);
  });

  it("refuses unknown relations and uids, changing nothing", async () => {
    const ref = (await ln.references.create({ name: "Lonely paper" })).record;
    const before = await snapshotTables(ln.db, [
      "lamindb_artifactreference",
      "lamindb_project_references",
    ]);
    await expect(ln.references.link(ref.uid, "friends", ["x"])).rejects.toThrow(
      /no relation 'friends'.*/,
    );
    const missing = await ln.references
      .link(ref.uid, "projects", ["AAAAAAAAAAAA"])
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as Error).message).toMatch(/no project with uid AAAAAAAAAAAA/);
    expect(
      await snapshotTables(ln.db, ["lamindb_artifactreference", "lamindb_project_references"]),
    ).toEqual(before);
  });

  it("over HTTP: create, get, list, links, and problems for bad input", async () => {
    const created = await send("POST", "/references", { name: "Via HTTP", doi: "doi:10.5/abc" });
    expect(created.status).toBe(201);
    const ref = (await created.json()) as { uid: string };
    const project = (await ln.projects.create({ name: "HTTP project" })).record;
    const linked = await send("POST", `/references/${ref.uid}/links/projects`, {
      add: [project.uid],
    });
    expect(linked.status).toBe(200);
    expect(await linked.json()).toMatchObject({ uid: ref.uid, projects: [project.uid] });
    const removed = await send("POST", `/references/${ref.uid}/links/projects`, {
      remove: [project.uid],
    });
    expect(await removed.json()).toMatchObject({ projects: [] });
    expect((await send("GET", `/references/${ref.uid}`)).status).toBe(200);
    const list = (await (await send("GET", "/references?name__startswith=Via")).json()) as {
      items: { uid: string }[];
    };
    expect(list.items.map((r) => r.uid)).toEqual([ref.uid]);

    const badDoi = await send("POST", "/references", { name: "Bad", doi: "xyz" });
    expect(badDoi.status).toBe(400);
    expect(badDoi.headers.get("content-type")).toBe("application/problem+json");
    const badRelation = await send("POST", `/references/${ref.uid}/links/friends`, { add: [] });
    expect(badRelation.status).toBe(400);
    const registries = (await (await send("GET", "/registries")).json()) as {
      plural: string;
      fields: Record<string, { ref?: string }>;
    }[];
    const info = registries.find((r) => r.plural === "references");
    expect(info?.fields.projects).toMatchObject({ type: "list", ref: "projects" });
  });
});

describe("lamin reference / link / unlink", () => {
  const work = tempDir("lamin-references-cli-");
  const { run, json } = laminIn(work);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("creates, links and unlinks from the command line; bad input is refused", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    writeFileSync(join(work, "a.csv"), "a\n1\n");
    const a = await json<{ uid: string }>("save", join(work, "a.csv"), "--key", "raw/a.csv");
    const ref = await json<{ uid: string; doi: string; status: string }>(
      "reference",
      "create",
      "A paper",
      "--doi",
      "10.1000/xyz123",
      "--pubmed-id",
      "12345678",
      "--date",
      "2023-11-21",
    );
    expect(ref).toMatchObject({ doi: "10.1000/xyz123", status: "created" });
    const linked = await json<{ artifacts: string[] }>(
      "link",
      "reference",
      ref.uid,
      "artifacts",
      a.uid.slice(0, 16),
    );
    expect(linked.artifacts).toEqual([a.uid]);
    expect((await run("link", "reference", ref.uid, "artifacts", a.uid)).stdout).toMatch(
      new RegExp(`artifacts: ${a.uid}`),
    );
    expect(
      (await json<{ artifacts: string[] }>("unlink", "reference", ref.uid, "artifacts", a.uid))
        .artifacts,
    ).toEqual([]);
    const list = await json<{ uid: string }[]>("reference", "list");
    expect(list.map((r) => r.uid)).toEqual([ref.uid]);

    expectRefusal(await run("reference", "create", "Bad", "--doi", "nope"), 2, /DOI/);
    expectRefusal(
      await run("link", "reference", ref.uid, "friends", a.uid),
      2,
      /no relation 'friends'/,
    );
    expectRefusal(
      await run("link", "ulabel", "x", "parents", "y"),
      2,
      /cannot link records of 'ulabel'/,
    );
    expectRefusal(
      await run("link", "reference", ref.uid, "projects", "AAAAAAAAAAAA"),
      3,
      /no project/,
    );
  });
});
