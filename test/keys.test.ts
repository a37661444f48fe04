/**
 * Artifact keys follow LaminDB 2.9.1: `check_key` (lamindb/models/sqlrecord.py) refuses
 * backslashes and `.`/`..` segments, `Artifact()` refuses keys containing `.lamindb/`, and
 * `lamindb_artifact.key` is varchar(1024). A key LaminDB accepts is accepted here, except the
 * intentional differences of KEY_DIFFERENCES, each checked below with its reason.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../core/db/client.js";
import { type LaminError, ValidationError } from "../core/errors.js";
import { Ingestor } from "../core/ingest/ingest.js";
import type { Instance } from "../core/instance.js";
import { KEY_DIFFERENCES, keyProblem, storedKeyProblem } from "../core/registry/artifacts/keys.js";
import {
  createInstance,
  managedFiles,
  type TestInstance,
  tempDir,
  useTempHome,
} from "./helpers.js";

useTempHome();

/** LaminDB's verdict, transcribed from its source (see the header). */
function laminDbAccepts(key: string): boolean {
  if (key.includes("\\")) return false; // check_key
  if (key.split("/").some((s) => s === "." || s === "..")) return false; // check_key
  if (key.includes(".lamindb/")) return false; // Artifact.__init__: AUTO_KEY_PREFIX in key
  return key.length <= 1024; // CharField(max_length=1024)
}

const KEYS = [
  "a.csv",
  "raw/2024/sample 1.csv",
  "/abs/x.csv",
  "a//b.csv",
  "dir/",
  ".lamindb",
  "x/.lamindb",
  ".lamindb/x.csv",
  "data/.lamindb/x.csv",
  "my.lamindb/x.csv",
  "x.lamindb",
  "..",
  "../x.csv",
  "a/../b.csv",
  "./a.csv",
  "a/./b.csv",
  "a/.",
  "...csv",
  "a/..b.csv",
  ".hidden.csv",
  "back\\slash.csv",
  "ünïcødé/😀.csv",
  "k".repeat(1024),
  "k".repeat(1025),
  "",
  "tab\there.csv",
  "nul\u0000.csv",
  "bell\u0007.csv",
];

describe("key rules", () => {
  const differences = new Set(KEY_DIFFERENCES.filter((d) => !d.stored).map((d) => d.key));

  it("accepts what LaminDB accepts and refuses what it refuses, except the listed differences", () => {
    const disagree = KEYS.filter((k) => (keyProblem(k) === undefined) !== laminDbAccepts(k));
    // every disagreement is an intentional refusal (never an acceptance LaminDB refuses)
    for (const k of disagree) expect(laminDbAccepts(k), JSON.stringify(k)).toBe(true);
    // the difference "control characters" covers every key that has one (as its example does)
    const control = (k: string) => [...k].some((c) => c.charCodeAt(0) < 0x20 || c === "\u007f");
    expect(disagree.filter((k) => !differences.has(k) && !control(k))).toEqual([]);
  });

  it("lists each intentional difference with its reason, refused here and accepted by LaminDB", () => {
    expect(KEY_DIFFERENCES.length).toBeGreaterThan(0);
    for (const d of KEY_DIFFERENCES) {
      expect(laminDbAccepts(d.key), d.key).toBe(true);
      expect(d.why.length).toBeGreaterThan(20);
      expect(storedKeyProblem(d.key), d.key).toBeDefined();
      if (!d.stored) expect(keyProblem(d.key), d.key).toBeDefined();
      else expect(keyProblem(d.key), d.key).toBeUndefined();
    }
  });
});

describe("artifact keys in use", () => {
  let t: TestInstance;
  let ln: Instance;
  let work: string;

  const file = (name: string, content: string) => {
    const path = join(work, name);
    writeFileSync(path, content);
    return path;
  };
  const snapshot = async () => ({
    rows: await queryRows(ln.db, sql`SELECT uid, key, branch_id FROM lamindb_artifact ORDER BY id`),
    files: managedFiles(t.root),
  });

  beforeAll(async () => {
    t = await createInstance("pglite");
    ln = t.instance;
    work = tempDir("lamin-keys-");
  });
  afterAll(() => t.dispose());

  it("saves under keys LaminDB accepts: a leading '/', '//', '.lamindb' itself, virtual as always", async () => {
    const saved = [];
    for (const [name, key] of [
      ["abs.csv", "/abs/x.csv"],
      ["double.csv", "a//b.csv"],
      ["plain", ".lamindb"],
      ["plain2", "x/.lamindb"],
    ] as const) {
      const { artifact } = await ln.artifacts.save(file(name, `content of ${name}`), { key });
      expect(artifact.key).toBe(key);
      // the key is metadata: the bytes live under .lamindb/<uid><suffix>
      expect(artifact.path).toBe(join(t.root, ".lamindb", `${artifact.uid}${artifact.suffix}`));
      saved.push(artifact);
    }
    expect((await ln.artifacts.get({ key: "/abs/x.csv" })).uid).toBe(saved[0]?.uid);
    // nothing was written outside the managed folder
    expect(existsSync(join(t.root, "abs"))).toBe(false);
    expect(existsSync("/abs/x.csv")).toBe(false);
    // an upload under such a key is written below .lamindb/ too, never at the key
    const ticket = await ln.artifacts.prepareUpload({
      name: "x.csv",
      size: 1,
      hash: "AAAAAAAAAAAAAAAAAAAAAA",
      hash_type: "md5",
      key: "/etc/x.csv",
    });
    expect(ticket.upload?.key).toMatch(/^\.lamindb\/[0-9A-Za-z]{20}\.csv$/);
    await ln.artifacts.abortUpload(ticket.artifact.uid);
    const loaded = await ln.artifacts.load({ key: "/abs/x.csv" });
    expect(loaded.path.startsWith(join(process.env.LAMIN_CACHE_DIR as string, t.name))).toBe(true);
  });

  it("refuses keys LaminDB refuses, with what is wrong and what to do, writing nothing", async () => {
    const ok = file("ok.csv", "ok");
    const before = await snapshot();
    for (const [key, message] of [
      ["my.lamindb/x.csv", /contains '\.lamindb\/'/],
      ["data/.lamindb/x.csv", /contains '\.lamindb\/'/],
      ["back\\slash.csv", /backslash/],
      ["a/./ok.csv", /'\.' segment/],
      ["../ok.csv", /'\.\.' segment/],
      ["", /is empty/],
    ] as const) {
      const err = await ln.artifacts.save(ok, { key }).catch((e) => e);
      expect(err, key).toBeInstanceOf(ValidationError);
      expect((err as Error).message, key).toMatch(message);
      expect((err as LaminError).hint, key).toBeTruthy();
    }
    const { artifact } = await ln.artifacts.save(ok, { key: "fine/ok.csv" });
    const renamed = await ln.artifacts
      .update(artifact.uid, { key: "x.lamindb/ok.csv" })
      .catch((e) => e);
    expect(renamed).toBeInstanceOf(ValidationError);
    expect((await ln.artifacts.get(artifact.uid)).key).toBe("fine/ok.csv");
    await ln.artifacts.delete(artifact.uid, { permanent: true });
    expect(await snapshot()).toEqual(before);
  });

  it("registers objects in place only under keys that are safe storage keys", async () => {
    const ingestor = new Ingestor(ln);
    const event = (key: string) => ({
      type: "created" as const,
      bucket: "",
      key,
      sequencer: "0000000000000000000000000000000A",
      name: "ObjectCreated:Put",
    });
    mkdirSync(join(t.root, "x.lamindb"), { recursive: true });
    writeFileSync(join(t.root, "x.lamindb", "in.csv"), "in place");
    const before = await snapshot();
    const outcomes = await Promise.all(
      ["x.lamindb/in.csv", "/abs.csv", "a/../b.csv"].map((k) => ingestor.apply(event(k))),
    );
    expect(outcomes.map((o) => `${o.action}: ${o.reason}`)).toEqual([
      "skipped: invalid artifact key: it contains '.lamindb/', the folder LaminDB manages",
      "skipped: invalid artifact key: it starts with '/'",
      "skipped: invalid artifact key: it contains a '..' segment",
    ]);
    expect(await snapshot()).toEqual(before);
    // an artifact registered in place keeps a storage key: no rename to a leading '/'
    writeFileSync(join(t.root, "placed.csv"), "placed");
    const placed = await ingestor.apply(event("placed.csv"));
    expect(placed.action).toBe("created");
    const uid = (await ln.artifacts.get({ key: "placed.csv" })).uid;
    const moved = await ln.artifacts.update(uid, { key: "/placed.csv" }).catch((e) => e);
    expect(moved).toBeInstanceOf(ValidationError);
    expect((moved as Error).message).toMatch(/starts with '\/'/);
    expect((await ln.artifacts.get(uid)).key).toBe("placed.csv");
  });
});
