/**
 * Storage roots saved into themselves, and instances inside instances (issue 13, item 10).
 * `lamin save` of the storage root (or a folder holding it, or anything in `.lamindb/`) copied
 * the whole instance, its database included, into itself; `lamin init --storage` accepted a
 * folder that holds, or lies inside, another instance's storage. Both are refused with what to
 * do instead, and nothing is copied or created.
 */
import type { ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { laminHome } from "../../core/settings.js";
import {
  createInstance,
  expectRefusal,
  lamin,
  managedFiles,
  startLamin,
  stopChild,
  tempDir,
  useTempHome,
} from "../helpers.js";

useTempHome();
const work = tempDir("lamin-roots-");
const root = join(work, "a", "data");
const NAME = "roota";
let server: ChildProcess | undefined;

beforeAll(async () => {
  const init = await lamin(["init", "--storage", root, "--name", NAME, "--json"]);
  expect(init.code, init.stderr).toBe(0);
  mkdirSync(join(root, "raw"));
  writeFileSync(join(root, "raw", "x.txt"), "already in storage");
});
afterAll(() => stopChild(server));

/** The artifacts and managed bytes of the instance, to compare before and after a refusal. */
async function state() {
  const ls = await lamin(["ls", "--json", "--all-versions"]);
  expect(ls.code, ls.stderr).toBe(0);
  return { rows: JSON.parse(ls.stdout), files: managedFiles(root) };
}

describe("lamin save of a storage root", () => {
  it("refuses the root, a folder holding it, another spelling of it, and .lamindb/", async () => {
    symlinkSync(root, join(work, "alias"));
    const before = await state();
    const attempts: [string, RegExp][] = [
      [root, /is the storage root of roota/],
      [join(work, "alias"), /is the storage root of roota/],
      [join(work, "a"), /contains the storage root of roota/],
      [work, /contains the storage root of roota/],
      [join(root, ".lamindb"), /inside .*\.lamindb/],
      [join(root, ".lamindb", "storage_uid.txt"), /inside .*\.lamindb/],
    ];
    for (const [path, message] of attempts) {
      const r = await lamin(["save", path, "--key", "copy"]);
      expectRefusal(r, 2, message);
      expect(r.stderr).toMatch(/hint: .*lamin reconcile/);
    }
    expect(await state()).toEqual(before);
  });

  it("refuses it through a running lamin serve too, and in the SDK", async () => {
    const before = await state();
    ({ child: server } = await startLamin(["serve", "--port", "0", "--json"]));
    const r = await lamin(["save", root, "--key", "copy"], {
      env: { LAMIN_LOCK_TIMEOUT_MS: "500" },
    });
    expectRefusal(r, 2, /is the storage root of roota/);
    await stopChild(server);
    expect(await state()).toEqual(before);

    const ti = await createInstance("pglite");
    try {
      await expect(ti.instance.artifacts.save(ti.root, { key: "copy" })).rejects.toMatchObject({
        kind: "validation",
        message: expect.stringMatching(/is the storage root/),
      });
      expect(managedFiles(ti.root)).toEqual([]);
    } finally {
      await ti.dispose();
    }
  });
});

describe("lamin init --storage where another instance's storage is", () => {
  const settingsOf = () => readdirSync(join(laminHome(), "instances")).sort();
  const current = () => readFileSync(join(laminHome(), "current-instance"), "utf8");

  it("refuses a folder holding it, one inside it, and creates nothing", async () => {
    const before = { settings: settingsOf(), current: current() };
    // another machine's (or LAMIN_HOME's) instance, known only by its marker
    const other = join(work, "b", "data");
    const made = await lamin(["init", "--storage", other, "--name", "rootb"], {
      env: { LAMIN_HOME: join(work, "other-home") },
    });
    expect(made.code, made.stderr).toBe(0);

    const attempts: [string[], string, RegExp][] = [
      [["--storage", "."], join(work, "a"), /holds the storage of anonymous\/roota/],
      [
        ["--storage", join(work, "a"), "--name", "x1"],
        work,
        /holds the storage of anonymous\/roota/,
      ],
      [
        ["--storage", join(root, "sub"), "--name", "x2"],
        work,
        /inside the storage of anonymous\/roota/,
      ],
      [["--storage", join(root, ".lamindb", "x"), "--name", "x3"], work, /inside the storage/],
      [
        ["--storage", join(other, "inner"), "--name", "x4"],
        work,
        /inside the storage of anonymous\/rootb/,
      ],
    ];
    for (const [args, cwd, message] of attempts) {
      const r = await lamin(["init", ...args], { cwd });
      expectRefusal(r, 4, message);
    }
    expect({ settings: settingsOf(), current: current() }).toEqual(before);
    expect(existsSync(join(work, "a", ".lamindb"))).toBe(false);
    expect(existsSync(join(work, ".lamindb"))).toBe(false);
    expect(existsSync(join(root, "sub"))).toBe(false);
    expect(existsSync(join(root, ".lamindb", "x"))).toBe(false);
    expect(existsSync(join(other, "inner"))).toBe(false);

    // the storage folder itself is taken back as the instance it holds (issue 18), not made anew
    const uidOf = async (home: string, args: string[]) =>
      (
        JSON.parse(
          (await lamin(["info", "--json", ...args], { env: { LAMIN_HOME: home } })).stdout,
        ) as { uid: string }
      ).uid;
    const rootbUid = await uidOf(join(work, "other-home"), []);
    const adopted = await lamin(["init", "--storage", other, "--name", "x5"], { cwd: work });
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout).toContain(`uid ${rootbUid}`);

    // a sibling folder is fine
    const sibling = await lamin(["init", "--storage", join(work, "c", "data"), "--name", "rootc"]);
    expect(sibling.code, sibling.stderr).toBe(0);
  });

  it("refuses a folder that holds the settings folder (its tokens, embedded databases)", async () => {
    const home = join(work, "h", "home");
    mkdirSync(home, { recursive: true });
    const r = await lamin(["init", "--storage", join(work, "h"), "--name", "h"], {
      env: { LAMIN_HOME: home },
    });
    expectRefusal(r, 4, /holds .*settings folder/);
    expect(existsSync(join(work, "h", ".lamindb"))).toBe(false);
    expect(readdirSync(home)).toEqual([]);
  });
});
