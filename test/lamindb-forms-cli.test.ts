/**
 * LaminDB's documented command forms (lamin-cli's __main__.py), one per command, run as a new
 * user would: a fresh settings folder, the built `lamin`, nothing but the commands. This
 * project's own verbs (`ls`, `search`, `lineage`, `serve`, ...) stay as they are.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { expectRefusal, LAMIN_BIN, lamin, laminIn, tempDir, useTempHome } from "./helpers.js";

useTempHome();
const LONG = 300_000;

interface ArtifactJson {
  uid: string;
  key: string;
  description: string | null;
  version: string;
  local_path?: string;
}

describe("LaminDB's command forms", () => {
  const dir = tempDir("lamin-forms-");
  const { run, json } = laminIn(dir);
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  let first: ArtifactJson;

  beforeAll(async () => {
    expect((await run("init", "--storage", "./data")).code).toBe(0);
  }, LONG);

  it(
    "create project|branch, save with --key --description --project --space --stem-uid --branch",
    async () => {
      expect((await run("create", "project", "P1")).code).toBe(0);
      expect((await run("create", "branch", "b1")).code).toBe(0);
      write("a.csv", "a\n1\n");
      first = await json<ArtifactJson>(
        "save",
        "a.csv",
        "--key",
        "raw/a.csv",
        "--description",
        "first",
        "--project",
        "P1",
        "--space",
        "all",
      );
      expect(first).toMatchObject({ key: "raw/a.csv", description: "first", version: "0000" });
      const annotations = await json<{ projects?: string[] }>("annotate", first.uid);
      expect(JSON.stringify(annotations)).toContain("P1");
      write("a.csv", "a\n2\n");
      const next = await json<ArtifactJson>("save", "a.csv", "--stem-uid", first.uid.slice(0, 16));
      expect(next.uid.slice(0, 16)).toBe(first.uid.slice(0, 16));
      expect(next).toMatchObject({ key: "raw/a.csv", version: "0001" });
      write("b.csv", "b\n");
      await json("save", "b.csv", "--key", "raw/b.csv", "--branch", "b1");
      // --branch is for that save only: main does not see it, b1 does
      expect((await json<ArtifactJson[]>("ls")).map((a) => a.key)).toEqual(["raw/a.csv"]);
      await run("switch", "b1");
      expect((await json<ArtifactJson[]>("ls")).map((a) => a.key)).toContain("raw/b.csv");
      await run("switch", "main");
    },
    LONG,
  );

  it(
    "load --key, load artifact --uid, describe artifact --uid, get, update",
    async () => {
      const byKey = await json<ArtifactJson>("load", "--key", "raw/a.csv");
      expect(existsSync(byKey.local_path as string)).toBe(true);
      const byUid = await json<ArtifactJson>("load", "artifact", "--uid", first.uid);
      expect(byUid.uid).toBe(first.uid);
      const described = await run("describe", "artifact", "--uid", first.uid);
      expect(described.stdout).toContain(first.uid);
      expect((await run("get", "artifact", "--key", "raw/a.csv", "--description")).stdout).toBe(
        "first\n",
      );
      expect((await run("get", "branch", "--status")).stdout).toBe("standalone\n");
      expect(
        (await run("update", "artifact", "--key", "raw/a.csv", "--description", "second")).code,
      ).toBe(0);
      expect((await run("get", "artifact", "--key", "raw/a.csv", "--description")).stdout).toBe(
        "second\n",
      );
      expect((await run("update", "branch", "--name", "b1", "--status", "review")).code).toBe(0);
      expect((await run("get", "branch", "--name", "b1", "--status")).stdout).toBe("review\n");
    },
    LONG,
  );

  it(
    "annotate artifact --uid with --project, --readme, --comment",
    async () => {
      write("README.md", "# About a.csv\n");
      const uid = (await json<ArtifactJson>("get", "artifact", "--key", "raw/a.csv")).uid;
      expect((await run("annotate", "artifact", "--uid", uid, "--project", "P1")).code).toBe(0);
      expect((await run("annotate", "artifact", "--uid", uid, "--readme", "README.md")).code).toBe(
        0,
      );
      expect(
        (await run("annotate", "artifact", "--key", "raw/a.csv", "--comment", "looks good")).code,
      ).toBe(0);
      expect((await run("readme", "show", "--artifact", uid)).stdout).toContain("# About a.csv");
      expect((await run("block", "list", "--artifact", uid)).stdout).toContain("looks good");
      expectRefusal(await run("annotate", "schema", "--uid", "x"), 2, /not supported here/);
    },
    LONG,
  );

  it(
    "settings, info, track without a file (the shell script), delete artifact --key",
    async () => {
      const settings = await json<Record<string, string>>("settings");
      expect(settings).toMatchObject({ branch: "main", space: "all" });
      expect((await run("settings")).stdout).toMatch(/^branch\s+main$/m);
      expect((await json<{ branch: string }>("info")).branch).toBe("main");

      write("pipe.sh", '"$NODE" "$LAMIN" track\n"$NODE" "$LAMIN" finish\n');
      const { stdout } = await promisify(execFile)("sh", ["pipe.sh"], {
        cwd: dir,
        env: { ...process.env, NODE: process.execPath, LAMIN: LAMIN_BIN },
      });
      expect(stdout).toContain("pipe.sh");
      const runs = await json<{ status: string }[]>("run", "ls");
      expect(runs.map((r) => r.status)).toEqual(["completed"]);

      const deleted = await json<ArtifactJson>("delete", "artifact", "--key", "raw/a.csv");
      // the latest version went to the trash; the one before is the latest again (LaminDB)
      const left = await json<ArtifactJson[]>("ls");
      expect(left.map((a) => a.uid)).not.toContain(deleted.uid);
      expect(left.find((a) => a.key === "raw/a.csv")?.uid).toBe(first.uid);
    },
    LONG,
  );

  it(
    "get and update --description of a transform, a collection and a project",
    async () => {
      // the transform is the shell script `lamin track` registered; the collection holds a.csv
      const collection = await json<{ uid: string }>(
        "collection",
        "create",
        "batch/one",
        first.uid,
      );
      for (const [entity, by, value] of [
        ["transform", "--key", "pipe.sh"],
        ["collection", "--key", "batch/one"],
        ["project", "--name", "P1"],
      ] as const) {
        const updated = await run("update", entity, by, value, "--description", `${entity} notes`);
        expect(updated.code, updated.stderr).toBe(0);
        expect(updated.stdout).toMatch(new RegExp(`^updated ${entity} \\w+: description`));
        expect((await run("get", entity, by, value, "--description")).stdout).toBe(
          `${entity} notes\n`,
        );
        const described = await json<{ uid: string; description: string }>(
          "get",
          entity,
          by,
          value,
        );
        expect(described.description).toBe(`${entity} notes`);
      }
      const byUid = await run("get", "collection", "--uid", collection.uid, "--description");
      expect(byUid.stdout).toBe("collection notes\n");
      expectRefusal(await run("get", "transform", "--key", "nope.sh"), 3, /no transform with key/);
      expectRefusal(
        await run("update", "project", "--description", "x"),
        2,
        /pass --uid or --name/,
      );
      expectRefusal(
        await run("update", "transform", "--key", "pipe.sh", "--status", "review"),
        2,
        /changes only the description/,
      );
      // a refused update changed nothing
      expect((await run("get", "transform", "--key", "pipe.sh", "--description")).stdout).toBe(
        "transform notes\n",
      );
    },
    LONG,
  );

  it(
    "refuses forms it does not take, with what works, and saves nothing",
    async () => {
      write("c.csv", "c\n");
      expectRefusal(
        await run("save", "c.csv", "--key", "c.csv", "--space", "secret"),
        3,
        /no space 'secret'/,
      );
      expectRefusal(
        await run("save", "c.csv", "--key", "c.csv", "--project", "nope"),
        3,
        /no project 'nope'/,
      );
      expectRefusal(await run("save", "c.csv", "--stem-uid", "x;y"), 2, /not an artifact stem uid/);
      expectRefusal(await run("load", "transform", "--uid", "abc"), 2, /not supported here/);
      expectRefusal(await run("update", "artifact", "--key", "raw/b.csv"), 2, /nothing to update/);
      expectRefusal(await run("create", "ulabel", "x"), 2, /cannot create 'ulabel'/);
      expect((await json<ArtifactJson[]>("ls", "--all-versions")).map((a) => a.key)).not.toContain(
        "c.csv",
      );
      // track outside a shell script: which script is unknown
      expectRefusal(await run("track"), 2, /cannot tell which script/);
    },
    LONG,
  );
});

describe("lamin init with LaminDB's default storage", () => {
  it(
    "init without --storage makes the current folder the storage, named after it",
    async () => {
      const home = tempDir("lamin-home-");
      const folder = join(tempDir("lamin-init-"), "labnotes");
      mkdirSync(folder);
      const env = { LAMIN_HOME: home, LAMIN_CACHE_DIR: join(home, "cache") };
      const made = await lamin(["init"], { cwd: folder, env });
      expect(made.code, made.stderr).toBe(0);
      expect(made.stderr).toContain(`creating instance in the current folder (${folder})`);
      expect(existsSync(join(folder, ".lamindb", "pglite"))).toBe(true);
      const info = await lamin(["info", "--json"], { cwd: folder, env });
      expect(JSON.parse(info.stdout)).toMatchObject({ name: "labnotes", storage: folder });
      // the same again takes nothing over: the folder is this instance's already
      const again = await lamin(["init"], { cwd: folder, env });
      expect(again.code).toBe(4);
      expect(again.stderr).toMatch(/already managed by anonymous\/labnotes/);
    },
    LONG,
  );
});
