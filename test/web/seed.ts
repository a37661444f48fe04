/**
 * Data for the web UI's tests, screenshots and benchmark: one artifact of each previewable kind,
 * a run that read one and wrote another (lineage), a label, a project, a feature value, and two
 * hostile files (HTML and SVG with scripts) that must never run in the UI's origin.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { Instance } from "../../core/instance.js";
import { enableModules } from "../../core/modules/index.js";

export interface Seeded {
  uids: Record<string, string>;
  /** The Parquet file's bytes (processed/table.parquet: 4 row groups). */
  parquet: Uint8Array;
}

/** A tiny valid PNG (a 16x16 gradient), made here: no binary fixture. */
export function png(size = 16): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = (crcTable[(c ^ b) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    raw[y * (1 + size * 3)] = 0;
    for (let x = 0; x < size; x++) {
      const at = y * (1 + size * 3) + 1 + x * 3;
      raw[at] = (x * 255) / size;
      raw[at + 1] = (y * 255) / size;
      raw[at + 2] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A Parquet file of `rows` rows in row groups of `groupRows`. */
export function parquet(rows: number, groupRows: number): Uint8Array {
  const ids = Array.from({ length: rows }, (_, i) => i);
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: "cell_id", data: ids.map((i) => `cell-${i}`), type: "STRING" },
        { name: "gene_count", data: ids.map((i) => (i * 37) % 1000), type: "INT32" },
        {
          name: "score",
          data: ids.map((i) => Math.round(Math.sin(i) * 1000) / 1000),
          type: "DOUBLE",
        },
      ],
      rowGroupSize: groupRows,
      // pages of 8 KB (and an offset index, the writer's default): a reader of the first rows
      // needs the first pages only
      pageSize: 8 * 1024,
    }),
  );
}

export const HOSTILE_HTML =
  '<!doctype html><html><body><h1>hostile</h1><script>document.title="pwned";window.parent.__pwned=1;fetch("/artifacts?pwned=html")</script><img src=x onerror="fetch(\'/artifacts?pwned=img\')"></body></html>\n';
export const HOSTILE_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><script>fetch("/artifacts?pwned=svg")</script><rect width="40" height="40" fill="#c33"/></svg>\n';
export const MARKDOWN = [
  "# Counts README",
  "",
  "Processed **single-cell** counts; see [the docs](https://docs.lamin.ai).",
  "",
  "- one",
  "- two",
  "",
  '<script>fetch("/artifacts?pwned=md")</script>',
  "",
  "[bad link](javascript:fetch('/artifacts?pwned=mdlink'))",
  "",
  "| gene | count |",
  "| --- | --- |",
  "| CD3E | 12 |",
  "",
].join("\n");

export async function seed(ln: Instance, work: string): Promise<Seeded> {
  mkdirSync(work, { recursive: true });
  const uids: Record<string, string> = {};
  const put = async (
    key: string,
    content: string | Uint8Array,
    description?: string,
    schema?: string,
  ) => {
    const path = join(work, key.replaceAll("/", "_"));
    writeFileSync(path, content);
    const { artifact } = await ln.artifacts.save(path, {
      key,
      ...(description ? { description } : {}),
      ...(schema ? { schema } : {}),
    });
    uids[key] = artifact.uid;
    return artifact.uid;
  };
  const parquetBytes = parquet(40_000, 10_000);
  // the counts are validated against a schema of their columns
  for (const [name, dtype] of [
    ["gene", "str"],
    ["count", "int"],
    ["sample", "str"],
  ] as const) {
    await ln.features.create({ name, dtype });
  }
  await ln.schemas.create({ name: "counts", features: ["gene", "count", "sample"] });
  await put(
    "raw/counts.csv",
    'gene,count,sample\nCD3E,12,s1\nCD19,7,s1\n"MS4A1, B",3,s2\n',
    "raw counts",
    "counts",
  );
  await put("raw/samples.tsv", "sample\tdonor\tage\ns1\td1\t34\ns2\td2\t51\n");
  await put("images/umap.png", png(), "a UMAP picture");
  await put("docs/README.md", MARKDOWN);
  await put(
    "meta/config.json",
    JSON.stringify({ pipeline: "pipe.sh", threshold: 0.5, genes: ["CD3E"] }),
  );
  await put("attack/evil.html", HOSTILE_HTML, "an HTML page with a script");
  await put("attack/evil.svg", HOSTILE_SVG, "an SVG with a script");

  // lineage: pipe.sh read the counts and wrote the Parquet table
  const script = join(work, "pipe.sh");
  writeFileSync(
    script,
    "#!/bin/sh\n# turns counts into a table\npython make_table.py raw/counts.csv\n",
  );
  const { run, transform } = await ln.track({ path: script, captureProcess: false });
  uids.run = run.uid;
  uids.transform = transform.uid;
  await ln.artifacts.load(uids["raw/counts.csv"] as string, { to: join(work, "loaded") });
  await put("processed/table.parquet", parquetBytes, "cells x genes");
  await ln.finish();

  await ln.features.create({ name: "temperature", dtype: "float" });
  for (const name of ["T cell", "B cell"]) await ln.ulabels.create({ name });
  await ln.projects.create({ name: "atlas" });
  await ln.annotations.add(
    "artifact",
    uids["raw/counts.csv"] as string,
    { temperature: 37.5 },
    { ulabels: ["T cell"], projects: ["atlas"] },
  );
  const { record } = await ln.collections.create({
    key: "sets/raw",
    artifacts: [uids["raw/counts.csv"] as string, uids["raw/samples.tsv"] as string],
  });
  uids.collection = record.uid;
  await ln.blocks.setReadme("# Demo lab\n\nRaw counts and **processed** tables.");
  await enableModules(ln, ["bionty"]);
  return { uids, parquet: parquetBytes };
}
