/**
 * Annotation, validation, save --schema and collections of an instance on a hub (`lamin connect
 * owner/name`): the commands go through the hub's API of the instance, writes need write access
 * (validating, a POST that writes nothing, needs read), and bad inputs change nothing on the
 * server. Instances' databases are provisioned on the
 * Postgres server of DATABASE_URL.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBase62 } from "../core/uid.js";
import { type CliResult, lamin, serveHubFor, stopChild, tempDir, writeTree } from "./helpers.js";

describe.skipIf(!process.env.DATABASE_URL)(
  "features, schemas and collections through a hub",
  () => {
    const work = tempDir("lamin-remote-hub-");
    const hubDir = join(work, "hub");
    const operator = { LAMIN_HOME: join(work, "operator") };
    const alice = { LAMIN_HOME: join(work, "alice"), LAMIN_CACHE_DIR: join(work, "alice-cache") };
    const bob = { LAMIN_HOME: join(work, "bob"), LAMIN_CACHE_DIR: join(work, "bob-cache") };
    const slug = `alice/remote-${randomBase62(6).toLowerCase()}`;
    let server: ChildProcess | undefined;
    let url = "";

    const as = (env: Record<string, string>, ...args: string[]) => lamin(args, { cwd: work, env });
    const json = async <T>(env: Record<string, string>, ...args: string[]): Promise<T> => {
      const r = await as(env, ...args, "--json");
      expect(r.code, `lamin ${args.join(" ")}: ${r.stderr}`).toBe(0);
      return JSON.parse(r.stdout) as T;
    };
    const fails = (r: CliResult, code: number, type: string, message: RegExp) => {
      const shown = JSON.stringify(r, null, 2);
      expect(r.code, shown).toBe(code);
      const out = JSON.parse(r.stdout) as {
        error: { type: string; message: string; hint: string };
      };
      expect(out.error.type, shown).toBe(type);
      expect(out.error.message, shown).toMatch(message);
      expect(out.error.hint, shown).toBeTruthy();
    };

    beforeAll(async () => {
      ({ server, url } = await serveHubFor({
        hubDir,
        storageAllow: work,
        operator,
        users: { alice, bob },
      }));
      const init = await as(alice, "init", slug, "--storage", join(work, "lab"), "--json");
      expect(init.code, init.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
      if (url) await as(alice, "delete", "instance", slug, "--force");
      await stopChild(server);
    });

    it("annotates (bad inputs write nothing), validates, saves with a schema, collects", async () => {
      await json(alice, "feature", "create", "temperature", "--dtype", "float");
      await json(alice, "feature", "create", "cell_type", "--dtype", "cat[ULabel]");
      await json(alice, "ulabel", "create", "T-cell");
      const write = (name: string, text: string) => {
        writeFileSync(join(work, name), text);
        return name;
      };
      const a = await json<{ uid: string }>(
        alice,
        "save",
        write("a.csv", "temperature,cell_type\n37.5,T-cell\n"),
        "--key",
        "raw/a.csv",
      );
      const annotated = await json<{ features: Record<string, unknown> }>(
        alice,
        "annotate",
        a.uid,
        "--features",
        "temperature=37.5",
        "cell_type=T-cell",
      );
      expect(annotated.features).toEqual({ temperature: 37.5, cell_type: "T-cell" });
      fails(
        await as(alice, "annotate", a.uid, "--features", "temperature=hot", "--json"),
        2,
        "validation",
        /not a number/,
      );
      fails(
        await as(
          alice,
          "annotate",
          a.uid,
          "--features",
          "temperature=1",
          "cell_type=B-cell",
          "--json",
        ),
        2,
        "validation",
        /not a ulabel: 'B-cell'/,
      );
      fails(
        await as(alice, "annotate", a.uid, "--features", "nope=1", "--json"),
        2,
        "validation",
        /unknown feature 'nope'/,
      );
      expect((await json<{ features: unknown }>(alice, "annotate", a.uid)).features).toEqual(
        annotated.features,
      );
      const found = await json<{ uid: string }[]>(alice, "ls", "--features", "temperature__gt=30");
      expect(found.map((x) => x.uid)).toEqual([a.uid]);

      await json(alice, "schema", "create", "cells", "--features", "temperature,cell_type");
      const valid = await json<{ valid: boolean; n_rows: number }>(
        alice,
        "validate",
        "a.csv",
        "--schema",
        "cells",
      );
      expect(valid).toMatchObject({ valid: true, n_rows: 1 });
      const bad = write("bad.csv", "temperature,cell_type\nhot,B-cell\n");
      const invalid = await as(alice, "validate", bad, "--schema", "cells", "--json");
      fails(invalid, 2, "validation", /does not match schema 'cells': 2 issues/);
      expect(JSON.parse(invalid.stdout).error.report).toMatchObject({ valid: false, file: bad });
      fails(
        await as(alice, "save", bad, "--key", "raw/bad.csv", "--schema", "cells", "--json"),
        2,
        "validation",
        /does not match schema/,
      );
      expect(await json<unknown[]>(alice, "ls", "--key-prefix", "raw/bad")).toEqual([]);
      const good = await json<{ uid: string; status: string }>(
        alice,
        "save",
        write("good.csv", "temperature,cell_type\n36.6,T-cell\n"),
        "--key",
        "raw/good.csv",
        "--schema",
        "cells",
      );
      expect(good.status).toBe("created");
      expect((await json<{ features: unknown }>(alice, "annotate", good.uid)).features).toEqual({
        cell_type: "T-cell",
      });

      const collection = await json<{ uid: string; artifacts: string[] }>(
        alice,
        "collection",
        "create",
        "ds/cells",
        a.uid,
        good.uid,
      );
      expect(collection.artifacts).toEqual([a.uid, good.uid]);
      const members = await json<{ members: { uid: string }[] }>(
        alice,
        "collection",
        "members",
        "ds/cells",
      );
      expect(members.members.map((m) => m.uid)).toEqual([a.uid, good.uid]);
      await json(alice, "collection", "load", "ds/cells", "--to", "loaded");
      expect(readFileSync(join(work, "loaded", "good.csv"), "utf8")).toContain("36.6");
    }, 120_000);

    it("a reader lists, reads annotations, searches and validates, but cannot annotate, define or save (exit 7)", async () => {
      const add = await as(alice, "collaborator", "add", slug, "bob", "--role", "read");
      expect(add.code, add.stderr).toBe(0);
      expect((await as(bob, "connect", slug)).code).toBe(0);
      const features = await json<{ name: string }[]>(bob, "feature", "list");
      expect(features.map((f) => f.name).sort()).toEqual(["cell_type", "temperature"]);
      const hits = await json<{ name: string }[]>(bob, "search", "ulabel", "t cell");
      expect(hits[0]?.name).toBe("T-cell");
      const [a] = await json<{ uid: string }[]>(bob, "ls", "--key-prefix", "raw/a.csv");
      expect(
        (await json<{ features: unknown }>(bob, "annotate", (a as { uid: string }).uid)).features,
      ).toMatchObject({ temperature: 37.5 });
      fails(
        await as(
          bob,
          "annotate",
          (a as { uid: string }).uid,
          "--features",
          "temperature=1",
          "--json",
        ),
        7,
        "permission",
        /your role is read/,
      );
      fails(
        await as(bob, "ulabel", "create", "B-cell", "--json"),
        7,
        "permission",
        /your role is read/,
      );
      expect(await json<unknown[]>(alice, "search", "ulabel", "B-cell")).toEqual([]);

      // validating writes nothing: a reader validates a table and a folder, but cannot save
      await json(alice, "schema", "create", "combo", "--component", "obs=cells");
      writeTree(join(work, "d1"), { "obs.csv": "temperature,cell_type\n37.5,T-cell\n" });
      expect(await json(bob, "validate", "a.csv", "--schema", "cells")).toMatchObject({
        valid: true,
      });
      const folder = await json<{ valid: boolean; slots: Record<string, unknown> }>(
        bob,
        "validate",
        "d1",
        "--schema",
        "combo",
      );
      expect(folder).toMatchObject({ valid: true, slots: { obs: { valid: true, n_rows: 1 } } });
      fails(
        await as(bob, "validate", "bad.csv", "--schema", "cells", "--json"),
        2,
        "validation",
        /does not match schema 'cells'/,
      );
      fails(
        await as(bob, "save", "d1", "--key", "ds/d1", "--schema", "combo", "--json"),
        7,
        "permission",
        /your role is read/,
      );
      expect(await json<unknown[]>(alice, "ls", "--key-prefix", "ds/d1")).toEqual([]);

      // a run tracked while bob could write; now a reader, his load says what it did not record
      expect((await as(alice, "collaborator", "add", slug, "bob", "--role", "write")).code).toBe(0);
      writeFileSync(join(work, "pipe.sh"), "echo step\n");
      const track = await as(bob, "track", "pipe.sh");
      expect(track.code, track.stderr).toBe(0);
      expect((await as(alice, "collaborator", "add", slug, "bob", "--role", "read")).code).toBe(0);
      fails(
        await as(bob, "load", "--key", "raw/a.csv", "--to", "bob-in", "--json"),
        7,
        "permission",
        /^loaded, but not recorded as an input of run \w{16}: your role is read; this needs write$/,
      );
    }, 120_000);
  },
);
