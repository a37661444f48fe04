/**
 * Spaces as LaminDB has them (models/space.py: names unique whatever their case; records carry
 * `space_id`, default `all`), and the database policies that hide a space from a principal that
 * may not read it (core/db/space-policies.ts), on PGlite and on Postgres.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { forgetSpacePolicies, inSpaces } from "../core/db/space-policies.js";
import type { Instance } from "../core/instance.js";
import { BACKENDS, createInstance, type TestInstance, tempDir, useTempHome } from "./helpers.js";

useTempHome();

describe.each(BACKENDS)("spaces (%s)", (backend) => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;
  let n = 0;
  const file = (content: string) => {
    const path = join(work, `f${n++}.csv`);
    writeFileSync(path, content);
    return path;
  };
  const spaceOf = async (uid: string) =>
    (
      await queryRows<{ name: string }>(
        ln.db,
        sql`SELECT s.name FROM lamindb_artifact a JOIN lamindb_space s ON s.id = a.space_id
          WHERE a.uid = ${uid}`,
      )
    )[0]?.name;
  /** `fn` run as a principal that may read `read` and write `write` (space names). */
  const as = async <T>(read: string[], write: string[], fn: (scoped: Instance) => Promise<T>) => {
    const ids = async (names: string[]) =>
      Promise.all(names.map(async (name) => (await ln.spaces.resolve(name)).id));
    return inSpaces(ln.database, { read: await ids(read), write: await ids(write) }, (db) =>
      fn(ln.over(db)),
    );
  };

  beforeAll(async () => {
    t = await createInstance(backend);
    ln = t.instance;
    work = tempDir("lamin-spaces-");
  });
  afterAll(() => t.dispose());

  it("starts with the space all; names are unique whatever their case; bad names are refused", async () => {
    expect((await ln.spaces.list()).map((s) => [s.name, s.uid])).toEqual([["all", "aaaaaaaaaaaa"]]);
    const a = await ln.spaces.create("Lab-A", { description: "lab A's data" });
    expect(a).toMatchObject({ name: "Lab-A", description: "lab A's data" });
    expect(a.uid).toMatch(/^[0-9A-Za-z]{12}$/);
    await expect(ln.spaces.create("lab-a")).rejects.toThrow(/space 'lab-a' already exists/);
    await ln.spaces.create("lab-b");
    for (const bad of ["", " lab", "x".repeat(101), "a\nb"]) {
      await expect(ln.spaces.create(bad)).rejects.toThrow(/is not a space name/);
    }
    expect((await ln.spaces.list()).map((s) => s.name)).toEqual(["all", "Lab-A", "lab-b"]);
    expect((await ln.spaces.get("LAB-A")).uid).toBe(a.uid);
  });

  it("save puts a record into the space named (by name or uid); all by default", async () => {
    const plain = await ln.artifacts.save(file("a\n1\n"), { key: "plain.csv" });
    expect(await spaceOf(plain.artifact.uid)).toBe("all");
    const inA = await ln.artifacts.save(file("a\n2\n"), { key: "a.csv", space: "lab-a" });
    expect(await spaceOf(inA.artifact.uid)).toBe("Lab-A");
    const uidB = (await ln.spaces.get("lab-b")).uid;
    const inB = await ln.artifacts.save(file("a\n3\n"), { key: "b.csv", space: uidB });
    expect(await spaceOf(inB.artifact.uid)).toBe("lab-b");
  });

  it("an artifact says which space it is in (the space's name): save, get, list, versions", async () => {
    expect((await ln.artifacts.get({ key: "plain.csv" })).space).toBe("all");
    expect((await ln.artifacts.get({ key: "a.csv" })).space).toBe("Lab-A");
    const listed = (await ln.artifacts.list({ limit: 1000 })).items;
    expect(Object.fromEntries(listed.map((a) => [a.key, a.space]))).toMatchObject({
      "plain.csv": "all",
      "a.csv": "Lab-A",
      "b.csv": "lab-b",
    });
    expect((await ln.artifacts.versions({ key: "b.csv" })).map((a) => a.space)).toEqual(["lab-b"]);
    // a space made elsewhere (another process, the hub): its id is unknown here, so the names
    // are read again rather than shown wrong
    await ln.db.execute(
      sql`INSERT INTO lamindb_space (uid, name, created_at) VALUES ('spaceelsewhr', 'elsewhere', now())`,
    );
    const { artifact } = await ln.artifacts.save(file("a\nelse\n"), {
      key: "else.csv",
      space: "elsewhere",
    });
    expect(artifact.space).toBe("elsewhere");
    expect((await ln.artifacts.get(artifact.uid)).space).toBe("elsewhere");
    await ln.artifacts.delete(artifact.uid, { permanent: true });
    await ln.db.execute(sql`DELETE FROM lamindb_space WHERE uid = 'spaceelsewhr'`);
  });

  it("an unknown space is a clear error listing the spaces, and nothing is saved", async () => {
    const before = (await ln.artifacts.list({ limit: 1000 })).items.length;
    await expect(
      ln.artifacts.save(file("a\n4\n"), { key: "x.csv", space: "nope" }),
    ).rejects.toThrow(/no space 'nope'.*all, Lab-A, lab-b/s);
    expect((await ln.artifacts.list({ limit: 1000 })).items.length).toBe(before);
  });

  it("a principal sees only the spaces it may read: lists, get by uid, counts, spaces", async () => {
    const keys = await as(["all", "lab-a"], ["all"], async (scoped) => ({
      list: (await scoped.artifacts.list({ limit: 1000 })).items.map((a) => a.key).sort(),
      spaces: (await scoped.spaces.list()).map((s) => s.name),
      hidden: await scoped.artifacts.get({ key: "b.csv" }).catch((e: Error) => e.message),
      count: (
        await queryRows<{ n: number }>(
          scoped.db,
          sql`SELECT count(*)::int AS n FROM lamindb_artifact`,
        )
      )[0]?.n,
    }));
    expect(keys.list).toEqual(["a.csv", "plain.csv"]);
    // the names a restricted principal is told are those of its own spaces, though this
    // instance's cache of space names (shared with the owner's requests) knows them all
    const shown = await as(["all", "lab-a"], ["all"], async (scoped) =>
      JSON.stringify((await scoped.artifacts.list({ limit: 1000 })).items),
    );
    expect(shown).toContain('"space":"Lab-A"');
    expect(shown).not.toContain("lab-b");
    expect(keys.spaces).toEqual(["all", "Lab-A"]);
    expect(keys.hidden).toMatch(/no artifact/i);
    expect(keys.count).toBe(2);
    // nothing set: nothing visible (a forgotten setting fails closed)
    const none = await as([], [], async (scoped) => (await scoped.artifacts.list()).items.length);
    expect(none).toBe(0);
  });

  it("writing into a space needs write there: refused, and nothing changed", async () => {
    const before = await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n FROM lamindb_artifact`,
    );
    await expect(
      as(["all", "lab-a"], ["all"], (scoped) =>
        scoped.artifacts.save(file("a\n5\n"), { key: "sneak.csv", space: "lab-a" }),
      ),
    ).rejects.toThrow(/you may not write in that space/);
    // a space it cannot read does not exist for it
    await expect(
      as(["all"], ["all"], (scoped) =>
        scoped.artifacts.save(file("a\n6\n"), { key: "sneak.csv", space: "lab-b" }),
      ),
    ).rejects.toThrow(/no space 'lab-b'; the spaces you can use: all$/);
    // moving a record out of a space it may only read, or deleting it: refused out loud
    for (const statement of [
      sql`UPDATE lamindb_artifact SET space_id = 1 WHERE key = 'a.csv'`,
      sql`DELETE FROM lamindb_artifact WHERE key = 'a.csv'`,
    ]) {
      await expect(
        as(["all", "lab-a"], ["all"], (scoped) => scoped.db.execute(statement)),
      ).rejects.toThrow(/you may not write in that space/);
    }
    // a row of a space it cannot read is not there at all: nothing to refuse
    await expect(
      as(["all"], ["all"], (scoped) =>
        scoped.db.execute(sql`UPDATE lamindb_artifact SET description = 'x' WHERE key = 'b.csv'`),
      ),
    ).resolves.toBeDefined();
    expect((await ln.artifacts.get({ key: "b.csv" })).description).toBeNull();
    expect(await spaceOf((await ln.artifacts.get({ key: "a.csv" })).uid)).toBe("Lab-A");
    const after = await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n FROM lamindb_artifact`,
    );
    expect(after).toEqual(before);
    // with write in lab-a it goes through
    const ok = await as(["all", "lab-a"], ["all", "lab-a"], (scoped) =>
      scoped.artifacts.save(file("a\n7\n"), { key: "ok.csv", space: "lab-a" }),
    );
    expect(await spaceOf(ok.artifact.uid)).toBe("Lab-A");
  });

  it("a module's tables are covered, also when it is enabled after the policies were installed", async () => {
    const { enableModules } = await import("../core/modules/index.js");
    await enableModules(ln, ["bionty"]);
    const [row] = await queryRows<{ id: number }>(
      ln.db,
      sql`SELECT id FROM bionty_celltype ORDER BY id LIMIT 1`,
    );
    const labA = (await ln.spaces.resolve("lab-a")).id;
    await ln.db.execute(sql`UPDATE bionty_celltype SET space_id = ${labA} WHERE id = ${row?.id}`);
    const sees = (read: string[]) =>
      as(read, [], async (scoped) => {
        const [hit] = await queryRows<{ n: number }>(
          scoped.db,
          sql`SELECT count(*)::int AS n FROM bionty_celltype WHERE id = ${row?.id}`,
        );
        return hit?.n;
      });
    // the first restricted request after the module came may be refused (its tables are not
    // granted yet), never answered unfiltered; the next one installs the policies
    const first = await sees(["all"]).catch((e: Error) => e);
    if (first instanceof Error) expect(first.message).toMatch(/permission denied/);
    else expect(first).toBe(0);
    expect(await sees(["all"])).toBe(0);
    expect(await sees(["all", "lab-a"])).toBe(1);
    const [unguarded] = await queryRows<{ n: number }>(
      ln.db,
      sql`SELECT count(*)::int AS n FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE a.attname = 'space_id' AND c.relkind = 'r' AND NOT c.relrowsecurity
          AND c.relnamespace = 'public'::regnamespace`,
    );
    expect(unguarded?.n).toBe(0);
  }, 300_000);

  it("update moves a version into another space (LaminDB: record.space = space); a restricted caller needs write in both", async () => {
    const { artifact } = await ln.artifacts.save(file("a\nmove\n"), { key: "move.csv" });
    await expect(
      as(["all", "lab-a"], ["all"], (scoped) =>
        scoped.artifacts.update(artifact.uid, { space: "lab-a" }),
      ),
    ).rejects.toThrow(/you may not write in that space/);
    expect(await spaceOf(artifact.uid)).toBe("all");
    await as(["all", "lab-a"], ["all", "lab-a"], (scoped) =>
      scoped.artifacts.update(artifact.uid, { space: "LAB-A" }),
    );
    expect(await spaceOf(artifact.uid)).toBe("Lab-A");
    await expect(
      as(["all", "lab-a"], ["all"], (scoped) =>
        scoped.artifacts.update(artifact.uid, { space: "all" }),
      ),
    ).rejects.toThrow(/you may not write in that space/);
    await expect(ln.artifacts.update(artifact.uid, { space: "nope" })).rejects.toThrow(
      /no space 'nope'/,
    );
    await ln.artifacts.update(artifact.uid, { space: "all" });
    expect(await spaceOf(artifact.uid)).toBe("all");
    await ln.artifacts.delete(artifact.uid, { permanent: true });
  });

  it("policies read the grants once per statement; those an earlier version wrote are rewritten", async () => {
    const plan = () =>
      as(["all"], [], async (scoped) =>
        (
          await queryRows<{ "QUERY PLAN": string }>(
            scoped.db,
            sql`EXPLAIN SELECT id FROM lamindb_artifact WHERE key LIKE 'a%'`,
          )
        )
          .map((r) => r["QUERY PLAN"])
          .join("\n"),
      );
    const keys = () =>
      as(["all"], [], async (scoped) =>
        (await scoped.artifacts.list({ limit: 1000 })).items.map((a) => a.key).sort(),
      );
    const before = await keys();
    expect(before).toContain("plain.csv");
    expect(before).not.toContain("a.csv"); // lab-a's
    // a sub-select of the grants: an InitPlan, not a function called for every row filtered
    expect(await plan()).toMatch(/InitPlan/);
    // as an earlier version wrote it: the function in the policy itself
    await ln.db.execute(sql`DROP POLICY lamin_space_read ON lamindb_artifact`);
    await ln.db.execute(sql`CREATE POLICY lamin_space_read ON lamindb_artifact FOR SELECT
      USING (space_id = ANY (lamin_space_ids('read')))`);
    forgetSpacePolicies(ln.database); // as a process started after the upgrade
    expect(await plan()).toMatch(/InitPlan/);
    expect(await keys()).toEqual(before);
  });

  it("grants are only ever whole space ids in the SQL that sets them, whatever they hold", async () => {
    const all = (await ln.spaces.resolve("all")).id;
    const hostile = [
      "1', true), set_config('role', 'postgres', true), ('x",
      "1); DROP TABLE lamindb_space; --",
      Number.NaN,
      1.5,
      -1,
      40_000,
    ] as unknown as number[];
    // a write's grants go in BEGIN's text; a read's (on Postgres) as parameters of its prelude
    for (const readOnly of [false, true]) {
      const seen = await inSpaces(
        ln.database,
        { read: [...hostile, all], write: hostile },
        (db) =>
          queryRows<{ role: string; read: string; write: string }>(
            db.db,
            sql`SELECT current_user AS role, current_setting('lamin.spaces_read') AS read,
              current_setting('lamin.spaces_write') AS write`,
          ),
        { readOnly },
      );
      expect(seen).toEqual([{ role: "lamin_spaces", read: String(all), write: "" }]);
    }
    expect((await ln.spaces.list()).length).toBeGreaterThan(0); // the table is still there
  });

  it("the owner's connection is untouched: it still sees every space", async () => {
    expect((await ln.spaces.list()).length).toBe(3);
    expect((await ln.artifacts.list({ limit: 1000 })).items.map((a) => a.key).sort()).toEqual([
      "a.csv",
      "b.csv",
      "ok.csv",
      "plain.csv",
    ]);
  });
});

describe("spaces on a laptop hub (PGlite hub, PGlite instance)", () => {
  it("a reader of all never sees a restricted space's records; its member does", async () => {
    const { openHub } = await import("../core/hub/open.js");
    const { PgliteProvisioner, openEmbeddedRecord } = await import(
      "../core/hub/pglite-provisioner.js"
    );
    const { provisionInstance } = await import("../core/hub/provision.js");
    const { StoragePolicy } = await import("../core/hub/storage-policy.js");
    const { createHubApp } = await import("../functions/hub/app.js");
    const { tmpdir } = await import("node:os");
    const dir = tempDir("lamin-spaces-hub-");
    const opened = await openHub({ pgliteDir: join(dir, "hub") });
    const { hub } = opened;
    const app = createHubApp({ hub, openInstance: openEmbeddedRecord });
    try {
      for (const h of ["ann", "ben", "cid"]) await hub.createAccount(h);
      await provisionInstance(
        hub,
        new PgliteProvisioner(join(dir, "instances")),
        { owner: "ann", name: "lab", storageRoot: join(dir, "storage") },
        new StoragePolicy({ allow: [{ root: tmpdir() }] }),
      );
      await hub.setCollaborator("ann", "lab", "ben", "read");
      await hub.setCollaborator("ann", "lab", "cid", "read");
      const key = { ann: "", ben: "", cid: "" };
      for (const h of ["ann", "ben", "cid"] as const) key[h] = (await hub.createKey(h)).key;
      const call = async (who: keyof typeof key, method: string, path: string, body?: unknown) => {
        const res = await app.request(`/instances/ann/lab${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key[who]}`,
            ...(body ? { "content-type": "application/json" } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, text: await res.text() };
      };
      expect((await call("ann", "POST", "/spaces", { name: "lab-a" })).status).toBe(201);
      const upload = await call("ann", "POST", "/artifacts/uploads", {
        name: "x.csv",
        size: 3,
        hash: "AAAAAAAAAAAAAAAAAAAAAA",
        hash_type: "md5",
        key: "secret/x.csv",
        space: "lab-a",
      });
      expect(upload.status, upload.text).toBe(200);
      const uid = (JSON.parse(upload.text) as { artifact: { uid: string } }).artifact.uid;
      const grant = await app.request("/instances/ann/lab/space-collaborators/lab-a/cid", {
        method: "PUT",
        headers: { authorization: `Bearer ${key.ann}`, "content-type": "application/json" },
        body: JSON.stringify({ role: "read" }),
      });
      expect(grant.status).toBe(200);
      // a pending upload is listed as such to whoever may see it
      for (const [who, sees] of [
        ["ann", true],
        ["cid", true],
        ["ben", false],
      ] as const) {
        const one = await call(who, "GET", `/artifacts/${uid}`);
        expect(one.status, `${who}: ${one.text}`).toBe(sees ? 200 : 404);
        const spaces = await call(who, "GET", "/spaces");
        expect(spaces.text.includes("lab-a")).toBe(sees);
        if (sees) expect(JSON.parse(one.text).space).toBe("lab-a");
        const listed = await call(who, "GET", "/artifacts");
        expect(listed.status).toBe(200);
        expect(listed.text.includes("lab-a")).toBe(sees);
      }
    } finally {
      await app.close();
      await opened.close();
    }
  }, 300_000);
});
