/**
 * Projects, transforms and plans as LaminDB 2.9 has them (models/project.py, transform.py,
 * run.py): a project's parents and predecessors (no cycles), its dates, and its links to
 * collections, features, schemas, transforms, ulabels, blocks, branches, records (for a feature),
 * references and users (with a role); a transform's predecessors with the config of each link;
 * the plan (an artifact) of runs and transforms, given at create and by `lamin track --plan`,
 * shown and queried. In process on PGlite and Postgres, over HTTP and the SDK, through the built
 * CLI; bad input changes nothing. Link columns are the models' generic ones (core/registry/model/links.ts).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError, ValidationError } from "../core/errors.js";
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

const PROJECT_TABLES = [
  "lamindb_project",
  "lamindb_project_parents",
  "lamindb_project_predecessors",
  "lamindb_projectuser",
  "lamindb_projectrecord",
  "lamindb_collectionproject",
  "lamindb_branchproject",
];
const TRANSFORM_TABLES = ["lamindb_transform", "lamindb_transformtransform", "lamindb_run"];

const thrown = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe.each(BACKENDS)("project links, transform predecessors and plans on %s", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let app: ReturnType<typeof createApp>;
  let remote: RemoteInstance;
  const send = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: "Bearer tok", "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  let n = 0;
  const saveArtifact = async (key: string) => {
    const file = join(work, key.replaceAll("/", "_"));
    writeFileSync(file, `# plan ${n++} (${key})\n`);
    return (await ln.artifacts.save(file, { key })).artifact;
  };

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    app = createApp({ instance: () => ln, authorize: (token) => token === "tok" });
    remote = new RemoteInstance("http://api.test", {
      token: "tok",
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        app.request(input, init)) as typeof fetch,
    });
    work = tempDir();
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it("a project's parents, predecessors and dates; a cycle is refused and writes nothing", async () => {
    const program = (await ln.projects.create({ name: "Program" })).record;
    const made = await ln.projects.create({
      name: "Atlas",
      parents: ["Program"],
      start_date: "2024-01-15",
      end_date: "2024-12-31",
    });
    expect(made.status).toBe("created");
    expect(made.record).toMatchObject({
      parents: [program.uid],
      start_date: "2024-01-15",
      end_date: "2024-12-31",
      predecessors: [],
    });
    // the same name: the existing project, parents added to it
    const sub = (await ln.projects.create({ name: "Atlas v2", parents: [made.record.uid] })).record;
    const again = await ln.projects.create({ name: "Atlas v2", parents: ["Program"] });
    expect(again).toMatchObject({ status: "existing", record: { uid: sub.uid } });
    expect(again.record.parents).toEqual([made.record.uid, program.uid]);
    await ln.projects.link(sub.uid, "predecessors", ["Atlas"]);
    expect((await ln.projects.get(sub.uid)).predecessors).toEqual([made.record.uid]);
    expect(
      (await ln.projects.list({ filter: { _status_code: 0, name: "Atlas" } })).items,
    ).toHaveLength(1);

    const before = await snapshotTables(ln.db, PROJECT_TABLES);
    const refused: [() => Promise<unknown>, RegExp][] = [
      // Program -> Atlas -> Atlas v2: Program under Atlas v2 closes the circle
      [() => ln.projects.link(program.uid, "parents", [sub.uid]), /would make a cycle/],
      [() => ln.projects.create({ name: "Program", parents: ["Atlas v2"] }), /would make a cycle/],
      [() => ln.projects.link(sub.uid, "parents", [sub.uid]), /cannot be among its own parents/],
      [() => ln.projects.link(made.record.uid, "predecessors", ["Atlas v2"]), /would make a cycle/],
      [
        () => ln.projects.create({ name: "New", parents: ["Nope"] }),
        /no parent with uid or name Nope/,
      ],
      [() => ln.projects.create({ name: "New", start_date: "2024-02-30" }), /invalid start_date/],
      [() => ln.projects.create({ name: "New", end_date: "31.12.2024" }), /YYYY-MM-DD/],
      [() => ln.projects.link(sub.uid, "friends", ["x"]), /no relation 'friends'/],
    ];
    for (const [call, message] of refused) {
      const error = await thrown(call());
      expect(error instanceof ValidationError || error instanceof NotFoundError).toBe(true);
      expect(error?.message).toMatch(message);
    }
    expect(await snapshotTables(ln.db, PROJECT_TABLES)).toBe(before);
  });

  it("a project links collections, features, schemas, transforms, ulabels, blocks, branches, records, references and users", async () => {
    const art = await saveArtifact("data/a.md");
    const collection = (await ln.collections.create({ key: "coll", artifacts: [art.uid] })).record;
    const feature = (await ln.features.create({ name: "study", dtype: "cat[Project]" })).record;
    const schema = (await ln.schemas.create({ name: "s", features: ["study"] })).record;
    const transform = (await ln.transforms.create({ key: "p.py", source_code: "1" })).record;
    const ulabel = (await ln.ulabels.create({ name: "L" })).record;
    const block = (await ln.blocks.create({ key: "__lamindb_project__", content: "P" })).record;
    const record = (await ln.records.create({ name: "sample 1" })).record;
    const reference = (await ln.references.create({ name: "A paper" })).record;
    const p = (await ln.projects.create({ name: "Linked" })).record;

    await ln.projects.link(p.uid, "collections", [collection.uid]);
    await ln.projects.link(p.uid, "features", [feature.uid]);
    await ln.projects.link(p.uid, "schemas", [schema.uid]);
    await ln.projects.link(p.uid, "transforms", [transform.uid.slice(0, 12)]);
    await ln.projects.link(p.uid, "ulabels", [ulabel.uid]);
    await ln.projects.link(p.uid, "blocks", [block.uid]);
    await ln.projects.link(p.uid, "branches", ["main"]);
    await ln.projects.link(p.uid, "records", [record.uid]);
    await ln.projects.link(p.uid, "records", [record.uid], { feature: "study" });
    await ln.projects.link(p.uid, "references", [reference.uid]);
    await ln.projects.link(p.uid, "users", ["anonymous"], { role: "responsible" });
    const linked = await ln.projects.link(p.uid, "users", [ln.user.uid], { role: "viewer" });
    expect(linked).toMatchObject({
      collections: [collection.uid],
      features: [feature.uid],
      schemas: [schema.uid],
      transforms: [transform.uid],
      ulabels: [ulabel.uid],
      blocks: [block.uid],
      references: [reference.uid],
      records: [
        { uid: record.uid, feature: null },
        { uid: record.uid, feature: "study" },
      ],
      users: [
        { handle: "anonymous", role: "responsible" },
        { handle: "anonymous", role: "viewer" },
      ],
    });
    expect(linked.branches).toHaveLength(1);
    // the reverse sides see it too
    expect((await ln.references.get(reference.uid)).projects).toEqual([p.uid]);
    expect((await ln.blocks.get(block.uid)).projects).toEqual([p.uid]);
    // linking again keeps one link; unlinking by role keeps the other role
    expect((await ln.projects.link(p.uid, "collections", [collection.uid])).collections).toEqual([
      collection.uid,
    ]);
    const unlinked = await ln.projects.unlink(p.uid, "users", ["anonymous"], { role: "viewer" });
    expect(unlinked.users).toEqual([{ handle: "anonymous", role: "responsible" }]);
    expect((await ln.projects.unlink(p.uid, "records", [record.uid])).records).toEqual([]);

    const before = await snapshotTables(ln.db, PROJECT_TABLES);
    const refused: [() => Promise<unknown>, RegExp][] = [
      [() => ln.projects.link(p.uid, "users", ["anonymous"]), /needs a role/],
      [
        () => ln.projects.link(p.uid, "users", ["nobody"], { role: "viewer" }),
        /no user with uid or handle nobody/,
      ],
      [
        () => ln.projects.link(p.uid, "users", ["anonymous"], { role: "x".repeat(33) }),
        /longer than 32/,
      ],
      [
        () => ln.projects.link(p.uid, "records", [record.uid], { feature: "nope" }),
        /no feature 'nope'/,
      ],
      [
        () => ln.projects.link(p.uid, "collections", [collection.uid], { role: "x" }),
        /takes no 'role'/,
      ],
      [() => ln.projects.link(p.uid, "collections", ["AAAAAAAAAAAAAAAA0000"]), /no collection/],
      [
        () => ln.projects.link(p.uid, "branches", ["nowhere"]),
        /no branch with uid or name nowhere/,
      ],
    ];
    for (const [call, message] of refused) {
      const error = await thrown(call());
      expect(error instanceof ValidationError || error instanceof NotFoundError).toBe(true);
      expect(error?.message).toMatch(message);
    }
    expect(await snapshotTables(ln.db, PROJECT_TABLES)).toBe(before);
  });

  it("a transform's predecessors carry a config and never a cycle", async () => {
    const a = (await ln.transforms.create({ key: "a.py", source_code: "a" })).record;
    const b = (await ln.transforms.create({ key: "b.py", source_code: "b" })).record;
    const c = (await ln.transforms.create({ key: "c.py", source_code: "c" })).record;
    await ln.transforms.link(b.uid, "predecessors", [a.uid], { config: { step: 1 } });
    const linked = await ln.transforms.link(c.uid, "predecessors", [b.uid.slice(0, 12)]);
    expect(linked.predecessors).toEqual([{ uid: b.uid, config: null }]);
    expect((await ln.transforms.get(b.uid)).predecessors).toEqual([
      { uid: a.uid, config: { step: 1 } },
    ]);
    const before = await snapshotTables(ln.db, TRANSFORM_TABLES);
    for (const [call, message] of [
      [() => ln.transforms.link(a.uid, "predecessors", [c.uid]), /would make a cycle/],
      [() => ln.transforms.link(a.uid, "predecessors", [a.uid]), /cannot be among its own/],
      [
        () => ln.transforms.link(a.uid, "predecessors", [b.uid], { config: "x" }),
        /config must be an object/,
      ],
    ] as [() => Promise<unknown>, RegExp][]) {
      expect((await thrown(call()))?.message).toMatch(message);
    }
    expect(await snapshotTables(ln.db, TRANSFORM_TABLES)).toBe(before);
    expect((await ln.transforms.unlink(b.uid, "predecessors", [a.uid])).predecessors).toEqual([]);
  });

  it("runs and transforms have a plan: given by key or uid, shown as its uid, queried", async () => {
    const plan = await saveArtifact("plans/curate.md");
    const tr = await ln.transforms.create({
      key: "curate.py",
      source_code: "x",
      plan: "plans/curate.md",
    });
    expect(tr.record.plan).toBe(plan.uid);
    const run = await ln.runs.create({ transform: tr.record.uid, plan: plan.uid.slice(0, 16) });
    expect(run.record.plan).toBe(plan.uid);
    expect(
      (await ln.runs.list({ filter: { plan__key: "plans/curate.md" } })).items.map((r) => r.uid),
    ).toEqual([run.record.uid]);
    expect((await ln.transforms.list({ filter: { plan__uid: plan.uid } })).items).toHaveLength(1);
    // an existing transform gets the plan it is given
    const other = await saveArtifact("plans/other.md");
    const same = await ln.transforms.create({
      key: "curate.py",
      source_code: "x",
      plan: other.uid,
    });
    expect(same).toMatchObject({
      status: "existing",
      record: { uid: tr.record.uid, plan: other.uid },
    });

    const before = await snapshotTables(ln.db, TRANSFORM_TABLES);
    const trashed = await saveArtifact("plans/trashed.md");
    await ln.artifacts.delete(trashed.uid);
    const script = join(work, "tracked.sh");
    writeFileSync(script, "echo tracked\n");
    const refused: [() => Promise<unknown>, RegExp][] = [
      [
        () => ln.transforms.create({ key: "new.py", source_code: "n", plan: "plans/nope.md" }),
        /plan artifact 'plans\/nope.md' not found/,
      ],
      [() => ln.runs.create({ transform: tr.record.uid, plan: "AAAAAAAAAAAAAAAA" }), /not found/],
      [() => ln.runs.create({ transform: tr.record.uid, plan: trashed.uid }), /is in the trash/],
      [() => ln.track({ path: script, plan: "plans/nope.md", captureProcess: false }), /not found/],
    ];
    for (const [call, message] of refused) {
      const error = await thrown(call());
      expect(error).toBeInstanceOf(ValidationError);
      expect(error?.message).toMatch(message);
    }
    expect(await snapshotTables(ln.db, TRANSFORM_TABLES)).toBe(before);
    const tracked = await ln.track({
      path: script,
      plan: "plans/curate.md",
      captureProcess: false,
    });
    expect(tracked.run.plan).toBe(plan.uid);
    await ln.finish();
  });

  it("over HTTP and the SDK: links with roles, features and configs, plans, and problems", async () => {
    const p = (await remote.projects.create({ name: "Remote project", start_date: "2025-01-01" }))
      .record;
    expect(p.start_date).toBe("2025-01-01");
    const child = (await remote.projects.create({ name: "Remote child", parents: [p.uid] })).record;
    expect(child.parents).toEqual([p.uid]);
    const withUser = await remote.projects.link(p.uid, "users", ["anonymous"], { role: "owner" });
    expect(withUser.users).toEqual([{ handle: "anonymous", role: "owner" }]);
    const record = (await remote.records.create({ name: "remote sample" })).record;
    await remote.features.create({ name: "cohort", dtype: "cat[Project]" });
    const withRecord = await remote.projects.link(p.uid, "records", [record.uid], {
      feature: "cohort",
    });
    expect(withRecord.records).toEqual([{ uid: record.uid, feature: "cohort" }]);
    const a = (await remote.transforms.create({ key: "ra.py", source_code: "a" })).record;
    const b = (await remote.transforms.create({ key: "rb.py", source_code: "b" })).record;
    const linked = await remote.transforms.link(b.uid, "predecessors", [a.uid], {
      config: { k: 1 },
    });
    expect(linked.predecessors).toEqual([{ uid: a.uid, config: { k: 1 } }]);
    const plan = await saveArtifact("plans/remote.md");
    const run = await remote.runs.create({ transform: b.uid, plan: "plans/remote.md" });
    expect(run.record.plan).toBe(plan.uid);
    const page = (await (await send("GET", `/runs?plan__uid=${plan.uid}`)).json()) as {
      items: { uid: string }[];
    };
    expect(page.items.map((r) => r.uid)).toEqual([run.record.uid]);

    const before = await snapshotTables(ln.db, [...PROJECT_TABLES, ...TRANSFORM_TABLES]);
    const problems: [string, string, unknown, number, RegExp][] = [
      ["POST", `/projects/${p.uid}/links/users`, { add: ["anonymous"] }, 400, /needs a role/],
      ["POST", `/projects/${p.uid}/links/users`, { add: ["anonymous"], role: 7 }, 400, /role/],
      ["POST", `/projects/${p.uid}/links/parents`, { add: [child.uid] }, 400, /cycle/],
      ["POST", `/projects/${p.uid}/links/owners`, { add: [] }, 400, /relation/],
      [
        "POST",
        `/projects/${p.uid}/links/records`,
        { add: [record.uid], feature: "nope" },
        404,
        /no feature/,
      ],
      ["POST", `/transforms/${a.uid}/links/predecessors`, { add: [b.uid] }, 400, /cycle/],
      [
        "POST",
        `/transforms/${a.uid}/links/predecessors`,
        { add: [b.uid], config: [1] },
        400,
        /config/,
      ],
      ["POST", "/runs", { transform: a.uid, plan: "plans/none.md" }, 400, /not found/],
      [
        "POST",
        "/transforms",
        { key: "x.py", source_code: "x", plan: "plans/none.md" },
        400,
        /not found/,
      ],
      ["POST", "/projects", { name: "Bad dates", start_date: "2025-13-01" }, 400, /start_date/],
    ];
    for (const [method, path, body, status, message] of problems) {
      const res = await send(method, path, body);
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBe(status);
      expect(text, `${method} ${path}`).toMatch(message);
    }
    expect(await snapshotTables(ln.db, [...PROJECT_TABLES, ...TRANSFORM_TABLES])).toBe(before);
    const registries = (await (await send("GET", "/registries")).json()) as {
      plural: string;
      fields: Record<string, { type: string; ref?: string }>;
    }[];
    const projects = registries.find((r) => r.plural === "projects");
    expect(projects?.fields.users).toMatchObject({ type: "list" });
    expect(projects?.fields.parents).toMatchObject({ type: "list", ref: "projects" });
    expect(registries.find((r) => r.plural === "runs")?.fields.plan).toMatchObject({
      type: "string",
    });
  });
});

describe("lamin project / link / track --plan", () => {
  const work = tempDir("lamin-project-links-cli-");
  const { run, json } = laminIn(work);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("creates projects under parents, links them, links transforms, tracks a plan; bad input is refused", async () => {
    expect((await run("init", "--storage", join(work, "store"))).code).toBe(0);
    const parent = await json<{ uid: string }>("project", "create", "Program");
    const p = await json<{ uid: string; parents: string[]; start_date: string }>(
      "project",
      "create",
      "Atlas",
      "--parent",
      "Program",
      "--start-date",
      "2024-01-15",
    );
    expect(p).toMatchObject({ parents: [parent.uid], start_date: "2024-01-15" });
    writeFileSync(join(work, "a.csv"), "a\n1\n");
    const a = await json<{ uid: string }>("save", join(work, "a.csv"), "--key", "raw/a.csv");
    const c = await json<{ uid: string }>("collection", "create", "coll", a.uid);
    const linked = await json<{ collections: string[] }>(
      "link",
      "project",
      p.uid,
      "collections",
      c.uid,
    );
    expect(linked.collections).toEqual([c.uid]);
    expect(
      (await run("link", "project", p.uid, "users", "anonymous", "--role", "responsible")).stdout,
    ).toMatch(/users: anonymous \(role=responsible\)/);
    writeFileSync(join(work, "plan.md"), "# the plan\n");
    const plan = await json<{ uid: string }>(
      "save",
      join(work, "plan.md"),
      "--key",
      "plans/plan.md",
    );
    writeFileSync(join(work, "step.sh"), "echo step\n");
    expectRefusal(
      await run("track", join(work, "step.sh"), "--plan", "plans/none.md"),
      2,
      /plan artifact 'plans\/none.md' not found/,
    );
    // nothing was written: no run, no transform
    expect((await json<unknown[]>("run", "ls")).length).toBe(0);
    expect(await json<unknown[]>("search", "transform", "step")).toEqual([]);
    const tracked = await json<{ run: { uid: string; plan: string }; transform: { uid: string } }>(
      "track",
      join(work, "step.sh"),
      "--plan",
      "plans/plan.md",
    );
    expect(tracked.run.plan).toBe(plan.uid);
    expect((await run("finish")).code).toBe(0);
    writeFileSync(join(work, "next.sh"), "echo next\n");
    const next = await json<{ transform: { uid: string } }>("track", join(work, "next.sh"));
    expect((await run("finish")).code).toBe(0);
    const stepTransform = tracked.transform.uid;
    const pre = await json<{ predecessors: { uid: string; config: unknown }[] }>(
      "link",
      "transform",
      next.transform.uid,
      "predecessors",
      stepTransform,
      "--config",
      '{"step": 2}',
    );
    expect(pre.predecessors).toEqual([{ uid: stepTransform, config: { step: 2 } }]);

    expectRefusal(await run("project", "create", "Loop", "--parent", "Nope"), 3, /no parent/);
    expectRefusal(
      await run("link", "project", parent.uid, "parents", p.uid),
      2,
      /would make a cycle/,
    );
    expectRefusal(await run("link", "project", p.uid, "users", "anonymous"), 2, /needs a role/);
    expectRefusal(
      await run("link", "transform", stepTransform, "predecessors", next.transform.uid),
      2,
      /cycle/,
    );
    expectRefusal(
      await run(
        "link",
        "transform",
        stepTransform,
        "predecessors",
        next.transform.uid,
        "--config",
        "{x",
      ),
      2,
      /--config is not JSON/,
    );
    expectRefusal(
      await run("project", "create", "Dated", "--end-date", "2024-02-30"),
      2,
      /invalid end_date/,
    );
    expect((await json<{ name: string }[]>("project", "list")).map((x) => x.name).sort()).toEqual([
      "Atlas",
      "Program",
    ]);
  });
});
