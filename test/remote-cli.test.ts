/**
 * Features, labels, annotation, search, schemas, validation, collections and run tracking work
 * the same through a running `lamin serve` as in process (twin instances, see twins.ts). Bad
 * inputs must change nothing on either side.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTree } from "./helpers.js";
import { SIDES, type Side, twins } from "./twins.js";

const { dirs, write, both, bothJson } = twins("lamin-remote-cli-");

/** Per side: a value that differs between twins (a uid). */
const uids: Record<string, Record<Side, string>> = {};
const uid = (name: string) => (side: Side) => (uids[name] as Record<Side, string>)[side];

describe("the same commands in process and through `lamin serve`", () => {
  it("features, labels, records, annotation (bad inputs change nothing) and search", async () => {
    await both(["feature", "create", "temperature", "--dtype", "float"]);
    await both(["feature", "create", "cell_type", "--dtype", "cat"]);
    await both(["feature", "create", "sample", "--dtype", "str", "--not-nullable"]);
    await both(["feature", "create", "temperature", "--dtype", "int"], 4);
    await both(["feature", "create", "bad", "--dtype", "float64"], 2);
    await both(["ulabel", "create", "CellTypes", "--is-type"]);
    await both(["ulabel", "create", "T-cell", "--type", "CellTypes"]);
    await both(["ulabel", "create", "T-cell", "--type", "CellTypes"]);
    await both(["project", "create", "P", "--abbr", "p"]);
    await both(["record", "create", "r1"]);
    await bothJson(["project", "create", "P"]);
    for (const registry of ["feature", "ulabel", "project", "record"]) {
      await both([registry, "list"]);
      await bothJson([registry, "list", "--limit", "2"]);
    }
    await both(["feature", "list", "--limit", "x"], 2);

    write("a.csv", "sample,temperature,cell_type\ns1,37.5,T-cell\n");
    const a = await bothJson<{ uid: string }>(["save", "a.csv", "--key", "raw/a.csv"]);
    uids.a = { local: a.local.uid, served: a.served.uid };

    await both((s) => [
      "annotate",
      uid("a")(s),
      "--features",
      "temperature=37.5",
      "cell_type=T-cell",
      "--project",
      "P",
      "--ulabel",
      "T-cell",
    ]);
    const before = await both((s) => ["annotate", uid("a")(s)]);
    expect((await both(["annotate", "--key", "raw/a.csv"])).served.stdout).toBe(
      before.served.stdout,
    );
    expect(before.served.stdout).toContain("temperature = 37.5");
    // each bad input: the same error, and nothing written
    for (const bad of [
      ["--features", "temperature=abc"],
      ["--features", "cell_type=B-cell"],
      ["--features", "nope=1"],
      ["--features", "temperature=38", "cell_type=B-cell"],
      ["--project", "NoSuch"],
      ["--features", "novalue"],
    ]) {
      await both((s) => ["annotate", uid("a")(s), ...bad], 2);
      await bothJson((s) => ["annotate", uid("a")(s), ...bad], 2);
    }
    await both(["annotate", "0000000000000000", "--features", "temperature=1"], 3);
    const after = await both((s) => ["annotate", uid("a")(s)]);
    expect(after.served.stdout).toBe(before.served.stdout);
    await bothJson((s) => ["annotate", uid("a")(s), "--remove", "temperature"]);
    await both((s) => ["annotate", uid("a")(s), "--features", "temperature=38"]);

    await both(["search", "ulabel", "t cell"]);
    await bothJson(["search", "feature", "temp", "--limit", "5"]);
    await both(["search", "nope", "x"], 2);
    await both(["ls", "--features", "temperature__gt=30", "cell_type=T-cell"]);
    await both(["ls", "--features", "temperature__gt=40"]);
  }, 180_000);

  it("schemas, validation and save --schema (nothing saved when invalid)", async () => {
    await both(["schema", "create", "samples", "--features", "sample,temperature,cell_type"]);
    await both(["schema", "create", "strict", "--features", "sample,cell_type", "--maximal"]);
    await both(["schema", "create", "samples", "--features", "sample"], 4);
    await both(["schema", "create", "broken", "--features", "sample,nope"], 2);
    await both(["schema", "list"]);
    await bothJson(["schema", "list"]);

    write("good.csv", "sample,temperature,cell_type\ns2,36.5,T-cell\n");
    write("bad.csv", "sample,temperature,cell_type,extra\n,hot,B-cell,1\n");
    write("notes.txt", "hello\n");
    await both(["validate", "good.csv", "--schema", "samples"]);
    await bothJson(["validate", "good.csv", "--schema", "samples"]);
    await both(["validate", "bad.csv", "--schema", "strict"], 2);
    const report = await bothJson<{ error: { report: { valid: boolean } } }>(
      ["validate", "bad.csv", "--schema", "samples"],
      2,
    );
    expect(report.served.error.report.valid).toBe(false);
    await both(["validate", "good.csv", "--schema", "nosuch"], 3);
    await both(["validate", "missing.csv", "--schema", "samples"], 2);
    await both(["validate", "notes.txt", "--schema", "samples"], 2);

    const count = async () => (await bothJson<unknown[]>(["ls", "--all-versions"])).served.length;
    const n = await count();
    await both(["save", "bad.csv", "--key", "raw/bad.csv", "--schema", "samples"], 2);
    await bothJson(["save", "bad.csv", "--key", "raw/bad.csv", "--schema", "strict"], 2);
    await both(["save", "good.csv", "--key", "raw/good.csv", "--schema", "nosuch"], 3);
    expect(await count()).toBe(n);

    const good = await bothJson<{ uid: string; status: string }>([
      "save",
      "good.csv",
      "--key",
      "raw/good.csv",
      "--schema",
      "samples",
    ]);
    expect(good.served.status).toBe("created");
    uids.good = { local: good.local.uid, served: good.served.uid };
    // linked like in process: the values LaminDB annotates (categorical columns' labels)
    const annotated = await both((s) => ["annotate", uid("good")(s)]);
    expect(annotated.served.stdout).toContain("cell_type = T-cell");
    // the same content again: the existing artifact, validated and linked again
    const again = await bothJson<{ status: string }>([
      "save",
      "good.csv",
      "--key",
      "raw/good.csv",
      "--schema",
      "samples",
    ]);
    expect(again.served.status).toBe("existing");
  }, 180_000);

  it("composite schemas: validate and save a folder (nothing saved or stored when invalid)", async () => {
    await both(["feature", "create", "gene", "--dtype", "str", "--not-nullable"]);
    await both(["schema", "create", "genes", "--features", "gene"]);
    await both([
      "schema",
      "create",
      "cells_genes",
      "--component",
      "obs=samples",
      "--component",
      "var.T=genes",
    ]);
    const folder = (name: string, files: Record<string, string>) => {
      for (const side of SIDES) writeTree(join(dirs[side], name), files);
    };
    folder("d-good", {
      "obs.csv": "sample,temperature,cell_type\ns3,36.9,T-cell\n",
      "var.T.tsv": "gene\nCD4\n",
      "notes.txt": "not a slot",
    });
    folder("d-bad", {
      "obs.json": '[{"sample": "s4", "temperature": "hot", "cell_type": "B-cell"}]',
      "var.T.csv": "gene,x\n,1\n",
    });
    folder("d-missing", { "obs.csv": "sample\ns5\n", "obs.tsv": "sample\ns5\n" });
    folder("d-unreadable", { "obs.parquet": "not parquet", "var.T.csv": "gene\nCD8\n" });

    await both(["validate", "d-good", "--schema", "cells_genes"]);
    await bothJson(["validate", "d-good", "--schema", "cells_genes"]);
    for (const bad of ["d-bad", "d-missing", "d-unreadable"]) {
      await both(["validate", bad, "--schema", "cells_genes"], 2);
      const r = await bothJson<{ error: { report: { valid: boolean } } }>(
        ["validate", bad, "--schema", "cells_genes"],
        2,
      );
      expect(r.served.error.report.valid).toBe(false);
    }
    await both(["validate", "good.csv", "--schema", "cells_genes"], 2);
    await both(["validate", "d-good", "--schema", "samples"], 2);
    await both(["validate", "d-nope", "--schema", "cells_genes"], 2);

    // nothing saved: no row, and no byte in storage
    const stored = (side: Side) =>
      readdirSync(join(dirs[side], "data"), { recursive: true }).map(String).sort();
    const count = async () => (await bothJson<unknown[]>(["ls", "--all-versions"])).served.length;
    const n = await count();
    const files = { local: stored("local"), served: stored("served") };
    for (const bad of ["d-bad", "d-missing", "d-unreadable"]) {
      await both(["save", bad, "--key", "ds/cg", "--schema", "cells_genes"], 2);
    }
    await bothJson(["save", "d-bad", "--key", "ds/cg", "--schema", "cells_genes"], 2);
    await both(["save", "good.csv", "--key", "ds/g.csv", "--schema", "cells_genes"], 2);
    expect(await count()).toBe(n);
    expect({ local: stored("local"), served: stored("served") }).toEqual(files);

    const saved = await bothJson<{ uid: string; status: string; n_files: number }>([
      "save",
      "d-good",
      "--key",
      "ds/cg",
      "--schema",
      "cells_genes",
    ]);
    expect(saved.served).toMatchObject({ status: "created", n_files: 3 });
    uids.cg = { local: saved.local.uid, served: saved.served.uid };
    // every slot's values linked, and the schema of each slot, as in process
    const annotated = await bothJson<{ features: unknown; schemas: { slot: string }[] }>((s) => [
      "annotate",
      uid("cg")(s),
    ]);
    expect(annotated.served.features).toEqual({ cell_type: "T-cell" });
    expect(annotated.served.schemas.map((x) => x.slot)).toEqual(["obs", "var.T"]);
    const again = await bothJson<{ status: string }>([
      "save",
      "d-good",
      "--key",
      "ds/cg",
      "--schema",
      "cells_genes",
    ]);
    expect(again.served.status).toBe("existing");
  }, 180_000);

  it("collections: create, ls, members, load", async () => {
    const create = (s: Side) => ["collection", "create", "ds/x", uid("a")(s), uid("good")(s)];
    const c = await bothJson<{ uid: string; status: string }>(create);
    expect(c.served.status).toBe("created");
    await both(create);
    await both(["collection", "create", "ds/y", "0000000000000000"], 2);
    await both(["collection", "ls"]);
    await both(["collection", "members", "ds/x"]);
    await bothJson((s) => ["collection", "members", c[s].uid]);
    await both(["collection", "members", "--key", "ds/x"]);
    await both(["collection", "members", "ds/nope"], 3);
    await both(["collection", "load", "ds/x", "--to", "out"]);
    expect(readFileSync(join(dirs.served, "out", "good.csv"), "utf8")).toContain("s2,36.5");
    await both(["collection", "load", "ds/nope"], 3);
  }, 180_000);

  it("track, save and load in the run, finish; runs by features", async () => {
    write("pipe.sh", "echo step\n");
    write("o.txt", "out\n");
    await both(["track", "pipe.sh", "--params", '{"threads": 2}']);
    await both(["track", "pipe.sh"], 4);
    await both(["load", "--key", "raw/a.csv", "--to", "in"]);
    const saved = await bothJson<{ run: string | null }>(["save", "o.txt", "--key", "out/o.txt"]);
    expect(saved.served.run).toMatch(/^[0-9A-Za-z]{16}$/);
    await both(["collection", "load", "ds/x", "--to", "in2"]);
    const finished = await bothJson<{ uid: string; status: string }>(["finish"]);
    expect(finished.served).toMatchObject({ uid: saved.served.run, status: "completed" });
    uids.run = { local: finished.local.uid, served: finished.served.uid };
    await both(["finish"], 3);
    // the run's output, made from its inputs: the lineage says the same on both sides
    // a run's inputs are listed by uid: the same lines, in another order on each twin
    await both(["lineage", "--key", "out/o.txt"], 0, true);
    await both(["lineage", "--key", "raw/a.csv", "--downstream"], 0, true);

    await both((s) => ["annotate", uid("run")(s), "--run", "--features", "temperature=40"]);
    await both((s) => ["annotate", uid("run")(s), "--run", "--features", "temperature=x"], 2);
    await both(["run", "ls"]);
    const hot = await bothJson<{ uid: string }[]>([
      "run",
      "ls",
      "--features",
      "temperature__gt=30",
    ]);
    expect(hot.served.map((r) => r.uid)).toEqual([uids.run?.served]);
    await both(["run", "ls", "--features", "temperature__gt=50"]);
    await both(["run", "ls", "--features", "nope=1"], 2);
    await both(["run", "ls", "--transform", "pipe.sh", "--status", "completed"]);
  }, 180_000);
});
