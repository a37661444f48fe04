/**
 * Spaces on a real hub: an instance with records in `all` and in two restricted spaces, and
 * every GET route of the instance API (taken from its router, so a new route is covered) called
 * as owner, admin, a writer of space A, a reader of `all` only, and a stranger. Whoever may not
 * read a space finds none of its records' uids, keys or names in any answer; addressing one is
 * 404 (not 403: existence does not leak). Writes into a space without the right are refused and
 * change nothing. Enforced by the database (core/db/space-policies.ts), not by the routes.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOn } from "../../cli/commands/serve.js";
import { createHubApp } from "../../functions/hub/app.js";
import { RemoteInstance } from "../../sdk/remote.js";
import { tempDir, useTempHome } from "../helpers.js";
import { fingerprint, type HubFixture, hubFixture, instanceApiRoutes } from "./hub-fixture.js";

useTempHome();

type Principal = "owner" | "admin" | "writerA" | "reader" | "stranger" | "readerOfA";
/** The restricted spaces each principal may read (owner and admin: all of them). */
const READS: Record<Principal, ("A" | "B")[]> = {
  owner: ["A", "B"],
  admin: ["A", "B"],
  writerA: ["A"],
  reader: [],
  stranger: [],
  readerOfA: ["A"],
};

/** What lives in one restricted space: uids by registry, and the words that name them. */
interface Hidden {
  uids: Record<string, string>;
  words: string[];
}

/** The path of every GET route of the instance API but the public ones, as its router has them. */
const getRoutes = (): string[] =>
  instanceApiRoutes()
    .filter((k) => k.startsWith("GET "))
    .map((k) => k.slice("GET ".length))
    .filter((path) => !["/health", "/docs", "/openapi.json", "/session"].includes(path));

/** The registry whose uid a route's `:uid` names. */
const REGISTRY_OF: Record<string, string> = {
  artifacts: "artifact",
  transforms: "transform",
  runs: "run",
  features: "feature",
  ulabels: "ulabel",
  projects: "project",
  records: "record",
  references: "reference",
  blocks: "block",
  collections: "collection",
};

/** Concrete requests of a route template aimed at the records of `h` (and plain lists). */
function requestsFor(route: string, h: Hidden): string[] {
  const top = route.split("/")[1] ?? "";
  const fill = (registry: string) =>
    route
      .replace(":uid", h.uids[registry] ?? h.uids.artifact ?? "")
      .replace(":ref", top === "schemas" ? (h.uids.schemaName ?? "") : "review-1")
      .replace(":path", "data.csv");
  if (route === "/artifacts/by-key")
    return [`${route}?key=${encodeURIComponent(h.words[0] ?? "")}`];
  if (route === "/collections/by-key") return [`${route}?key=${h.uids.collectionKey}`];
  if (route === "/search/:registry") {
    return [
      "ulabels",
      "projects",
      "records",
      "features",
      "transforms",
      "references",
      "artifacts",
    ].map((r) => `/search/${r}?q=secret`);
  }
  if (route === "/blocks/:registry/:uid") {
    return [`/blocks/artifact/${h.uids.artifact}`, `/blocks/record/${h.uids.record}`];
  }
  if (route.startsWith("/modules/")) {
    return [route.replace(":registry", "ulabels").concat("?name=secret&q=secret")];
  }
  if (route === "/artifacts/:uid/download" || route === "/artifacts/:uid/files/:path") {
    return [fill("artifact")];
  }
  const registry = REGISTRY_OF[top] ?? "artifact";
  return [fill(registry)];
}

describe.skipIf(!process.env.DATABASE_URL)("spaces: routes x principals, on a real hub", () => {
  let fx: HubFixture;
  let app: ReturnType<typeof createHubApp>;
  const keys = {} as Record<Principal, string>;
  const hidden = {} as Record<"A" | "B", Hidden>;
  let publicArtifact = "";
  let publicCollection = "";
  const base = "/instances/alice/alpha";
  const work = tempDir("lamin-spaces-matrix-");
  let n = 0;
  const file = (content: string) => {
    const path = join(work, `f${n++}.csv`);
    writeFileSync(path, content);
    return path;
  };

  const call = async (
    who: Principal,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ) => {
    const res = await app.request(`${base}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${keys[who]}`,
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: res.status, text: await res.text() };
  };
  const hubCall = async (who: Principal, method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${keys[who]}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, text: await res.text() };
  };
  const state = () => fingerprint(fx.alpha.dbUrl, fx.alpha.root);

  beforeAll(async () => {
    fx = await hubFixture();
    keys.owner = fx.keys.owner;
    keys.admin = fx.keys.admin;
    keys.writerA = fx.keys.write;
    keys.reader = fx.keys.read;
    keys.stranger = fx.keys.stranger;
    await fx.hub.createAccount("frank");
    await fx.hub.setCollaborator("alice", "alpha", "frank", "write");
    keys.readerOfA = (await fx.hub.createKey("frank")).key;

    const ln = fx.alpha.instance;
    const db = ln.db;
    publicArtifact = (await ln.artifacts.save(file("x\n0\n"), { key: "public/data.csv" })).artifact
      .uid;
    await ln.branches.create("review-1");
    for (const s of ["A", "B"] as const) {
      const lower = s.toLowerCase();
      const space = await ln.spaces.create(`lab-${lower}`);
      const id = (await ln.spaces.resolve(space.name)).id;
      const word = (what: string) => `secret-${lower}-${what}`;
      const artifact = (
        await ln.artifacts.save(file(`x\n${s}\n`), {
          key: `${word("dir")}/data.csv`,
          description: word("description"),
          space: space.name,
        })
      ).artifact.uid;
      const ulabel = (await ln.ulabels.create({ name: word("ulabel") })).record.uid;
      const project = (await ln.projects.create({ name: word("project") })).record.uid;
      const record = (await ln.records.create({ name: word("record") })).record.uid;
      const feature = (await ln.features.create({ name: word("feature"), dtype: "str" })).record
        .uid;
      const reference = (await ln.references.create({ name: word("reference") })).record.uid;
      const transform = (await ln.transforms.create({ key: `${word("transform")}.py` })).record.uid;
      const run = (await ln.runs.create({ transform: transform })).record.uid;
      const block = (await ln.blocks.create({ content: word("block") })).record.uid;
      const collection = (
        await ln.collections.create({ key: word("collection"), artifacts: [artifact] })
      ).record.uid;
      const schemaName = word("schema");
      const schema = (await ln.schemas.create({ name: schemaName, features: [word("feature")] }))
        .record.uid;
      // a change request's change: an artifact of the space on branch review-1
      await ln.useBranch("review-1");
      const onBranch = (
        await ln.artifacts.save(file(`x\n${s}\nbranch\n`), {
          key: `${word("branch")}/data.csv`,
          space: space.name,
        })
      ).artifact.uid;
      await ln.useBranch("main");
      for (const [table, uid] of [
        ["lamindb_ulabel", ulabel],
        ["lamindb_project", project],
        ["lamindb_record", record],
        ["lamindb_feature", feature],
        ["lamindb_reference", reference],
        ["lamindb_transform", transform],
        ["lamindb_run", run],
        ["lamindb_block", block],
        ["lamindb_collection", collection],
        ["lamindb_schema", schema],
      ] as const) {
        await db.execute(
          sql`UPDATE ${sql.identifier(table)} SET space_id = ${id} WHERE uid = ${uid}`,
        );
      }
      hidden[s] = {
        uids: {
          artifact,
          ulabel,
          project,
          record,
          feature,
          reference,
          transform,
          run,
          block,
          collection,
          schema,
          onBranch,
          schemaName,
          collectionKey: word("collection"),
        },
        // the space's own name too: answers name the space a record is in (`space`)
        words: [`${word("dir")}/data.csv`, `secret-${lower}-`, `"lab-${lower}"`],
      };
      // a public artifact annotated with the space's label and feature: values must not leak
      await ln.annotations.add(
        "artifact",
        publicArtifact,
        { [word("feature")]: "v" },
        {
          ulabels: [word("ulabel")],
        },
      );
    }
    publicCollection = (
      await ln.collections.create({
        key: "public-collection",
        artifacts: [
          publicArtifact,
          hidden.A.uids.artifact as string,
          hidden.B.uids.artifact as string,
        ],
      })
    ).record.uid;
    app = createHubApp({ hub: fx.hub });
    // space roles through the hub's API, as an admin grants them
    const grant = async (handle: string, space: string, role: string) => {
      const res = await hubCall("admin", "PUT", `${base}/space-collaborators/${space}/${handle}`, {
        role,
      });
      expect(res.status, res.text).toBe(200);
    };
    await grant("carol", "lab-a", "write");
    await grant("frank", "lab-a", "read");
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await fx?.close();
  });

  /** Uids and words of the spaces `who` may not read. */
  const forbiddenFor = (who: Principal) =>
    (["A", "B"] as const)
      .filter((s) => !READS[who].includes(s))
      .flatMap((s) => {
        const { uids, words } = hidden[s];
        const { schemaName, collectionKey, ...recordUids } = uids;
        return [...Object.values(recordUids), ...words];
      });

  it("every GET route x principal: no record of an unreadable space in any answer; addressed: 404", async () => {
    const failures: string[] = [];
    let requests = 0;
    for (const route of getRoutes()) {
      for (const s of ["A", "B"] as const) {
        for (const path of requestsFor(route, hidden[s])) {
          for (const who of Object.keys(READS) as Principal[]) {
            const res = await call(who, path);
            requests++;
            if (who === "stranger") {
              if (res.status !== 404) failures.push(`${path} as stranger: ${res.status}`);
              continue;
            }
            // a 404 says which uid or key it did not find: what was asked, not what exists
            const leaked = forbiddenFor(who).filter(
              (w) => res.text.includes(w) && !decodeURIComponent(path).includes(w),
            );
            if (leaked.length > 0) failures.push(`${path} as ${who}: leaks ${leaked.join(", ")}`);
            if (res.status === 403 || res.status === 500) {
              failures.push(`${path} as ${who}: ${res.status} ${res.text.slice(0, 200)}`);
            }
            // a record of a space it may not read, addressed by uid: as if it did not exist
            const addressed =
              route.includes(":uid") ||
              route.includes("by-key") ||
              route.startsWith("/schemas/:ref");
            if (addressed && !READS[who].includes(s) && res.status !== 404 && res.status !== 400) {
              failures.push(`${path} as ${who}: ${res.status}, expected 404`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(200);
  }, 600_000);

  it("the matrix is not vacuous: owner, admin and members see the records of their spaces", async () => {
    for (const who of ["owner", "admin", "writerA", "readerOfA"] as const) {
      const list = await call(who, "/artifacts?limit=100");
      expect(list.text).toContain(hidden.A.words[0]);
      expect(list.text.includes(hidden.B.words[0] as string)).toBe(READS[who].includes("B"));
      const one = await call(who, `/ulabels/${hidden.A.uids.ulabel}`);
      expect(one.status, one.text).toBe(200);
      const spaces = JSON.parse((await call(who, "/spaces")).text) as { name: string }[];
      expect(spaces.map((s) => s.name)).toEqual(
        READS[who].includes("B") ? ["all", "lab-a", "lab-b"] : ["all", "lab-a"],
      );
    }
    const members = await call("owner", `/collections/${publicCollection}/members`);
    expect(members.text).toContain(hidden.B.uids.artifact);
    const features = await call("owner", `/artifacts/${publicArtifact}/features`);
    expect(features.text).toContain("secret-b-ulabel");
    const changes = await call("owner", "/branches/review-1/changes");
    expect(changes.text).toContain(hidden.B.uids.onBranch);
  });

  it("a reader of all sees only all: spaces, members of a shared collection, feature values, changes", async () => {
    const spaces = JSON.parse((await call("reader", "/spaces")).text) as { name: string }[];
    expect(spaces.map((s) => s.name)).toEqual(["all"]);
    const members = await call("reader", `/collections/${publicCollection}/members`);
    expect(members.status).toBe(200);
    expect(members.text).toContain(publicArtifact);
    for (const s of ["A", "B"] as const) {
      expect(members.text).not.toContain(hidden[s].uids.artifact);
      expect(members.text).not.toContain(hidden[s].uids.artifact);
    }
    const features = await call("reader", `/artifacts/${publicArtifact}/features`);
    expect(features.status).toBe(200);
    expect(features.text).not.toMatch(/secret-[ab]-/);
    const count = await call("reader", "/artifacts?limit=100");
    expect(JSON.parse(count.text).items.map((a: { key: string }) => a.key)).toEqual([
      "public/data.csv",
    ]);
  });

  it("downloads of a record of an unreadable space are 404; a member downloads it", async () => {
    for (const who of ["reader", "writerA"] as const) {
      const res = await call(who, `/artifacts/${hidden.B.uids.artifact}/download`);
      expect(res.status, `${who}: ${res.text}`).toBe(404);
    }
    const ok = await app.request(`${base}/artifacts/${hidden.A.uids.artifact}/download`, {
      headers: { authorization: `Bearer ${keys.writerA}` },
      redirect: "manual",
    });
    expect([200, 302, 307]).toContain(ok.status);
  });

  it("writes into a space without the right are refused and change nothing", async () => {
    const upload = (space: string, content: string) => ({
      method: "POST",
      body: {
        name: "sneak.csv",
        size: content.length,
        hash: "AAAAAAAAAAAAAAAAAAAAAA",
        hash_type: "md5",
        key: `sneak/${space}.csv`,
        space,
      },
    });
    const before = await state();
    // a reader of all: the route needs write
    const r1 = await call("reader", "/artifacts/uploads", upload("lab-a", "x"));
    expect(r1.status).toBe(403);
    // a writer of A into B, which it cannot see: unknown, and the spaces it can use are named
    const r2 = await call("writerA", "/artifacts/uploads", upload("lab-b", "x"));
    expect(r2.status).toBe(404);
    expect(r2.text).toMatch(/no space 'lab-b'; the spaces you can use: all, lab-a/);
    // a reader of A into A: the database refuses the row
    const r3 = await call("readerOfA", "/artifacts/uploads", upload("lab-a", "x"));
    expect(r3.status, r3.text).toBe(403);
    expect(r3.text).toMatch(/you may not write in that space/);
    // changing or trashing a record of a space it cannot see: 404
    const r4 = await call("writerA", `/artifacts/${hidden.B.uids.artifact}`, {
      method: "PATCH",
      body: { description: "mine now" },
    });
    expect(r4.status).toBe(404);
    const r5 = await call("writerA", `/artifacts/${hidden.B.uids.artifact}`, { method: "DELETE" });
    expect(r5.status).toBe(404);
    // trashing a record of a space it may only read
    const r6 = await call("readerOfA", `/artifacts/${hidden.A.uids.artifact}`, {
      method: "DELETE",
    });
    expect(r6.status, r6.text).toBe(403);
    expect(r6.text).toMatch(/you may not write in that space/);
    // an unknown space
    const r7 = await call("writerA", "/artifacts/uploads", upload("nope", "x"));
    expect(r7.status).toBe(404);
    expect(r7.text).toMatch(/no space 'nope'; the spaces you can use: all, lab-a/);
    // moving a record into a space it may only read, or into one it cannot see
    const move = (space: string) => ({ method: "PATCH", body: { space } });
    const m1 = await call("readerOfA", `/artifacts/${publicArtifact}`, move("lab-a"));
    expect(m1.status, m1.text).toBe(403);
    expect(m1.text).toMatch(/you may not write in that space/);
    const m2 = await call("writerA", `/artifacts/${publicArtifact}`, move("lab-b"));
    expect(m2.status).toBe(404);
    const m3 = await call("readerOfA", `/artifacts/${hidden.A.uids.artifact}`, move("all"));
    expect(m3.status, m3.text).toBe(403);
    // annotating or linking a record of a space it may only read (link rows carry no space)
    const annotate = { method: "POST", body: { ulabels: ["secret-a-ulabel"] } };
    const r8 = await call("readerOfA", `/artifacts/${hidden.A.uids.artifact}/features`, annotate);
    expect(r8.status, r8.text).toBe(403);
    expect(r8.text).toMatch(/you may not write in that space/);
    const r9 = await call("readerOfA", `/projects/${hidden.A.uids.project}/links/ulabels`, {
      method: "POST",
      body: { add: [hidden.A.uids.ulabel] },
    });
    expect(r9.status, r9.text).toBe(403);
    expect(await state()).toBe(before);
    // the writer of A annotates and links there
    const r10 = await call("writerA", `/artifacts/${hidden.A.uids.artifact}/features`, annotate);
    expect(r10.status, r10.text).toBe(200);
    const r11 = await call("writerA", `/projects/${hidden.A.uids.project}/links/ulabels`, {
      method: "POST",
      body: { add: [hidden.A.uids.ulabel] },
    });
    expect(r11.status, r11.text).toBe(200);
    // the writer of A does write into A
    const ok = await call("writerA", "/artifacts/uploads", upload("lab-a", "x"));
    expect(ok.status, ok.text).toBe(200);
  });

  it("space roles on the hub: admins grant them; bad requests are clear and change nothing", async () => {
    const path = `${base}/space-collaborators`;
    const list = await hubCall("admin", "GET", path);
    expect(JSON.parse(list.text)).toEqual([
      expect.objectContaining({ space: "lab-a", handle: "carol", role: "write" }),
      expect.objectContaining({ space: "lab-a", handle: "frank", role: "read" }),
    ]);
    // a writer may not grant, nor list who is in which space
    expect((await hubCall("writerA", "PUT", `${path}/lab-a/dave`, { role: "read" })).status).toBe(
      403,
    );
    expect((await hubCall("writerA", "GET", path)).status).toBe(403);
    const unknown = await hubCall("admin", "PUT", `${path}/nope/dave`, { role: "read" });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toMatch(/no space 'nope'; the spaces you can use: all, lab-a, lab-b/);
    const all = await hubCall("admin", "PUT", `${path}/all/dave`, { role: "read" });
    expect(all.status).toBe(400);
    const stranger = await hubCall("admin", "PUT", `${path}/lab-a/eve`, { role: "read" });
    expect(stranger.status).toBe(400);
    expect(stranger.text).toMatch(/not a collaborator/);
    const admin = await hubCall("owner", "PUT", `${path}/lab-a/bob`, { role: "read" });
    expect(admin.status).toBe(400);
    const badRole = await hubCall("admin", "PUT", `${path}/lab-a/dave`, { role: "owner" });
    expect(badRole.status).toBe(400);
    expect(JSON.parse((await hubCall("admin", "GET", path)).text)).toHaveLength(2);
    // granted, dave sees lab-a; taken away, lab-a is gone for him again
    expect((await hubCall("admin", "PUT", `${path}/lab-a/dave`, { role: "read" })).status).toBe(
      200,
    );
    expect((await call("reader", `/artifacts/${hidden.A.uids.artifact}`)).status).toBe(200);
    expect((await hubCall("admin", "DELETE", `${path}/lab-a/dave`)).status).toBe(204);
    expect((await call("reader", `/artifacts/${hidden.A.uids.artifact}`)).status).toBe(404);
    expect((await hubCall("admin", "DELETE", `${path}/lab-a/dave`)).status).toBe(404);
    // a collaborator removed from the instance loses their space roles with it
    await fx.hub.setCollaborator("alice", "alpha", "dave", "read");
    await fx.hub.setSpaceCollaborator("alice", "alpha", "dave", 2, "read");
    await fx.hub.removeCollaborator("alice", "alpha", "dave");
    await fx.hub.setCollaborator("alice", "alpha", "dave", "read");
    expect((await call("reader", `/artifacts/${hidden.A.uids.artifact}`)).status).toBe(404);
    expect(
      (JSON.parse((await hubCall("admin", "GET", path)).text) as { handle: string }[]).map(
        (g) => g.handle,
      ),
    ).not.toContain("dave");
  });

  it("the SDK over the hub: admins create spaces, members save into theirs", async () => {
    const served = await listenOn(app.fetch, { port: 0, host: "127.0.0.1" });
    try {
      const sdk = (who: Principal) =>
        new RemoteInstance(`${served.url.replace(/\/$/, "")}${base}`, { token: keys[who] });
      const made = await sdk("admin").spaces.create("lab-c", { description: "third" });
      expect(made).toMatchObject({ name: "lab-c", description: "third", created_by: "bob" });
      await expect(sdk("writerA").spaces.create("lab-d")).rejects.toThrow(/needs admin/);
      await expect(sdk("admin").spaces.create("LAB-C")).rejects.toThrow(/already exists/);
      expect((await sdk("writerA").spaces.list()).map((x) => x.name)).toEqual(["all", "lab-a"]);
      const saved = await sdk("writerA").artifacts.save(file("x\nsdk\n"), {
        key: "sdk/a.csv",
        space: "lab-a",
      });
      expect(saved.status).toBe("created");
      await expect(
        sdk("writerA").artifacts.save(file("x\nsdk2\n"), { key: "sdk/c.csv", space: "lab-c" }),
      ).rejects.toThrow(/no space 'lab-c'; the spaces you can use: all, lab-a/);
      // the reader of all never sees it
      const readerKeys = (await sdk("reader").artifacts.list({ limit: 100 })).items.map(
        (a) => a.key,
      );
      expect(readerKeys).not.toContain("sdk/a.csv");
      expect((await sdk("readerOfA").artifacts.get({ key: "sdk/a.csv" })).uid).toBe(
        saved.artifact.uid,
      );
    } finally {
      served.server.close();
    }
  });
});
