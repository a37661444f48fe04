import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IntegrityError, ValidationError } from "../core/errors.js";
import {
  b16ToB64,
  bytesToHash,
  compareCodePoints,
  HASH_CHUNK,
  hashDict,
  hashFile,
  hashFolder,
  hashFromGcsMd5,
  hashFromHashes,
  hashFromHfBlobId,
  hashFromOpaqueEtag,
  hashFromRanges,
  hashFromS3Etag,
  hashJsonValue,
  hashSet,
  hashString,
  pythonFloatRepr,
  pythonJsonDumps,
  readFileRange,
  toB64,
} from "../core/hash.js";

// ------------------------------------------------------------------------------------------------
// reference vectors
// ------------------------------------------------------------------------------------------------

interface Vector {
  name: string;
  kind: string;
  how_to_generate?: string | Record<string, string>;
  size?: number;
  hash?: string;
  hash_type?: string;
  n_files?: number;
  joined?: string;
  entries?: string[];
  input?: string;
  output?: string;
  instance_id?: string;
}

const VECTORS_URL = new URL("../../shared/reference/hash_vectors.json", import.meta.url);
function loadVectors(): Vector[] {
  const path = fileURLToPath(VECTORS_URL);
  if (!existsSync(path)) {
    throw new Error(
      `hash test vectors not found at ${path}: expected shared/reference/hash_vectors.json next to ` +
        "the repository (generate it with shared/reference/gen_vectors.py)",
    );
  }
  return (JSON.parse(readFileSync(path, "utf8")) as { vectors: Vector[] }).vectors;
}
const vectors = loadVectors();
const byKind = (kind: string) => vectors.filter((v) => v.kind === kind);
const HASH_KINDS = [
  "file",
  "folder",
  "string",
  "collection",
  "jsonvalue",
  "schema",
  "s3_etag",
  "gcs",
  "opaque_etag",
  "hf",
];
const UID_KINDS = ["uid_suffix", "instance_uid", "bionty_uid"]; // checked in uid.test.ts

const MiB = 1024 * 1024;
const BIG = 60_000; // per-test timeout for tests that write ≥ 50 MiB

// ------------------------------------------------------------------------------------------------
// helpers
// ------------------------------------------------------------------------------------------------

/** 251 × 32768 bytes (≈ 7.8 MiB) of the pattern byte i = i % 251; repeats seamlessly. */
const BLOCK = (() => {
  const b = Buffer.allocUnsafe(251 * 32768);
  for (let i = 0; i < b.length; i++) b[i] = i % 251;
  return b;
})();

/** Pattern bytes [start, end) as chunks of `chunk` bytes (odd sizes exercise chunk boundaries). */
function* patternRange(start: number, end: number, chunk = 7 * MiB + 3): Generator<Uint8Array> {
  let pos = start;
  while (pos < end) {
    const off = pos % 251;
    const n = Math.min(chunk, end - pos, BLOCK.length - off);
    yield BLOCK.subarray(off, off + n);
    pos += n;
  }
}

function patternBytes(n: number): Buffer {
  return Buffer.concat([...patternRange(0, n)]);
}

async function writePattern(path: string, n: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, "w");
  try {
    let pos = 0;
    while (pos < n) {
      const len = Math.min(BLOCK.length, n - pos);
      const { bytesWritten } = await fh.write(BLOCK, 0, len, pos);
      pos += bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

async function writeText(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** A reader over a file that records every requested range and counts the bytes delivered. */
function countingFileReader(fh: import("node:fs/promises").FileHandle) {
  const stats = { bytes: 0, ranges: [] as [number, number][] };
  const read = async function* (start: number, end: number) {
    stats.ranges.push([start, end]);
    for await (const chunk of readFileRange(fh, start, end)) {
      stats.bytes += chunk.byteLength;
      yield chunk;
    }
  };
  return { stats, read };
}

/** Content of a folder-vector file from its description in how_to_generate. */
function contentFromDescription(desc: string): Buffer {
  const text = /^UTF-8 '(.*)'$/.exec(desc);
  if (text) return Buffer.from(text[1] as string, "utf8");
  const pattern = /^(\d+) bytes, byte i = i % 251$/.exec(desc);
  if (pattern) return patternBytes(Number(pattern[1]));
  throw new Error(`unknown file description in vector: ${desc}`);
}

const TEXT_FILES: Record<string, string> = {
  file_text_a: "a",
  file_text_abc: "abc",
  file_text_hello_nl: "hello world\n",
};

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "lamin-hash-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------------
// vectors
// ------------------------------------------------------------------------------------------------

describe("hash_vectors.json", () => {
  it("has 46 vectors, all of a known kind", () => {
    expect(vectors).toHaveLength(46);
    for (const v of vectors) expect([...HASH_KINDS, ...UID_KINDS]).toContain(v.kind);
  });

  for (const v of byKind("file")) {
    const size = v.size as number;
    const big = size >= HASH_CHUNK;
    it(
      `file ${v.name}`,
      async () => {
        const path = join(tmp, `${v.name}.bin`);
        if (v.name.startsWith("file_pattern_")) {
          expect(Number(v.name.slice("file_pattern_".length))).toBe(size);
          await writePattern(path, size);
        } else {
          const text = TEXT_FILES[v.name];
          if (text === undefined) throw new Error(`no content known for vector ${v.name}`);
          await writeText(path, text);
        }
        try {
          const progress: number[] = [];
          const r = await hashFile(path, (n) => progress.push(n));
          expect(r).toEqual({ size, hash: v.hash, hashType: v.hash_type });
          // progress is cumulative and ends at the number of bytes that had to be hashed
          expect(progress.at(-1) ?? 0).toBe(bytesToHash(size));
          expect([...progress].sort((a, b) => a - b)).toEqual(progress);
          if (!big) {
            const text = TEXT_FILES[v.name];
            const content = text !== undefined ? Buffer.from(text) : patternBytes(size);
            expect(toB64(createHash("md5").update(content).digest())).toBe(v.hash);
          }
        } finally {
          await rm(path, { force: true });
        }
      },
      big ? BIG : undefined,
    );
  }

  for (const v of byKind("folder")) {
    it(
      `folder ${v.name}`,
      async () => {
        const root = join(tmp, v.name);
        const layout: [string, Buffer][] = [];
        if (typeof v.how_to_generate === "object") {
          for (const [rel, desc] of Object.entries(v.how_to_generate)) {
            layout.push([rel, contentFromDescription(desc)]);
          }
        } else if (v.name === "dir_small_renamed") {
          const small = vectors.find((x) => x.name === "dir_small");
          const spec = Object.values(small?.how_to_generate as Record<string, string>);
          spec.forEach((desc, i) => {
            layout.push([`x${i}/renamed_${i}.dat`, contentFromDescription(desc)]);
          });
        } else {
          throw new Error(`no layout known for vector ${v.name}`);
        }
        for (const [rel, data] of layout) await writeText(join(root, rel), data);
        try {
          const r = await hashFolder(root);
          expect(r.hash).toBe(v.hash);
          expect(r.hashType).toBe(v.hash_type);
          expect(r.size).toBe(v.size);
          expect(r.nFiles).toBe(v.n_files);
          expect(r.files.map((f) => f.relPath)).toEqual(layout.map(([rel]) => rel).sort());
          expect(r.hash).toBe(hashFromHashes(r.files.map((f) => f.hash)));
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      },
      (v.size ?? 0) >= HASH_CHUNK ? BIG : undefined,
    );
  }

  it("string: transform source code", () => {
    const [v] = byKind("string");
    const src = 'import lamindb as ln\nln.track()\nprint("hi")\nln.finish()\n';
    expect(v?.how_to_generate).toContain("import lamindb as ln");
    expect(hashString(src)).toBe(v?.hash);
  });

  it("collection: hash_set of artifact hashes, order irrelevant", () => {
    for (const v of byKind("collection")) {
      const hashes = (v.joined as string).split(":");
      expect(hashSet(hashes)).toBe(v.hash);
      expect(hashSet([...hashes].reverse())).toBe(v.hash);
      expect(hashSet([...hashes, hashes[0] as string])).toBe(v.hash); // a set: duplicates drop
      expect(hashString(v.joined as string)).toBe(v.hash);
    }
  });

  it("jsonvalue: python str() or json.dumps(sort_keys=True)", () => {
    const values: Record<string, unknown> = {
      "jsonvalue_float_37.5": 37.5,
      jsonvalue_int_1: 1,
      jsonvalue_bool_True: true,
      "jsonvalue_str_Control sample": "Control sample",
      jsonvalue_dict: { b: 1, a: [1, 2] },
    };
    const vs = byKind("jsonvalue");
    expect(vs.map((v) => v.name).sort()).toEqual(Object.keys(values).sort());
    for (const v of vs) expect(hashJsonValue(values[v.name]), v.name).toBe(v.hash);
    expect(pythonJsonDumps({ b: 1, a: [1, 2] })).toBe('{"a": [1, 2], "b": 1}');
  });

  it("schema: hash_string of sorted entries joined by ':'", () => {
    const vs = byKind("schema");
    expect(vs).toHaveLength(4);
    const schemaHash = (entries: readonly string[]) =>
      hashString([...entries].sort(compareCodePoints).join(":"));
    for (const v of vs) {
      expect(schemaHash(v.entries as string[]), v.name).toBe(v.hash);
      expect(schemaHash([...(v.entries as string[])].reverse()), v.name).toBe(v.hash);
    }
    // the derived l= (slots) and j= (features) entries
    const get = (n: string) => vs.find((v) => v.name === n) as Vector;
    const slots = hashString(
      [`obs=${get("schema_itype_Feature").hash}`, `var.T=${get("schema_itype_gene_ensembl").hash}`]
        .sort()
        .join(":"),
    );
    expect(get("schema_composite_obs_varT").entries).toContain(`l=${slots}`);
    const features = hashString(["Abc123XYZ000", "0aB9c8D7e6F5"].sort().join(":"));
    expect(get("schema_two_features").entries).toContain(`j=${features}`);
  });

  it("s3_etag: single-part md5 and multipart md5-<N>", () => {
    const vs = byKind("s3_etag");
    expect(vs).toHaveLength(3);
    for (const v of vs) {
      expect(hashFromS3Etag(v.input as string), v.name).toEqual({
        hash: v.hash,
        hashType: v.hash_type,
      });
    }
    // the multipart ETag is what S3 reports for 20 MiB of pattern uploaded in 8 MiB parts
    const data = patternBytes(20 * MiB);
    const parts: Buffer[] = [];
    for (let i = 0; i < data.length; i += 8 * MiB) {
      parts.push(
        createHash("md5")
          .update(data.subarray(i, i + 8 * MiB))
          .digest(),
      );
    }
    const etag = `"${createHash("md5").update(Buffer.concat(parts)).digest("hex")}-${parts.length}"`;
    expect(vs.find((v) => v.name === "s3_multipart_etag")?.input).toBe(etag);
  });

  it("gcs md5Hash", () => {
    for (const v of byKind("gcs")) {
      expect(hashFromGcsMd5(v.input as string)).toEqual({ hash: v.hash, hashType: v.hash_type });
    }
  });

  it("opaque etag (gcs composite, http)", () => {
    for (const v of byKind("opaque_etag")) {
      expect(hashFromOpaqueEtag(v.input as string)).toEqual({
        hash: v.hash,
        hashType: v.hash_type,
      });
    }
  });

  it("hugging face blob id", () => {
    for (const v of byKind("hf")) {
      expect(hashFromHfBlobId(v.input as string)).toEqual({ hash: v.hash, hashType: v.hash_type });
      expect(v.input).toBe(createHash("sha1").update("blob 1\0a").digest("hex"));
    }
  });
});

// ------------------------------------------------------------------------------------------------
// primitives
// ------------------------------------------------------------------------------------------------

describe("primitives", () => {
  it("upstream constants (lamindb-setup tests/core/test_hashing.py)", async () => {
    expect(hashString("a")).toBe("DMF1ucDxtqgxw5niaXcmYQ");
    expect(hashString("b")).toBe("kutf_uauL-w61xx3dTFXjw");
    expect(hashString("abc")).toBe("kAFQmDzST7DWlj99KOF_cg");
    const abc = Buffer.from("abc");
    const r = await hashFromRanges(
      3,
      async function* (s, e) {
        yield abc.subarray(s, e);
      },
      { chunkSize: 1 },
    );
    expect(r).toEqual({ size: 3, hash: "p0EbDbQEP1wS-Tw6TuBjKS", hashType: "sha1-fl" });
  });

  it("b16ToB64 and toB64", () => {
    expect(b16ToB64("9b89c8c1acf79dba5b5341d1fff9806f")).toBe("m4nIwaz3nbpbU0HR__mAbw");
    expect(b16ToB64('"9B89C8C1ACF79DBA5B5341D1FFF9806F"')).toBe("m4nIwaz3nbpbU0HR__mAbw");
    expect(() => b16ToB64("xyz")).toThrow(ValidationError);
    const sha1 = createHash("sha1").update("a").digest();
    expect(toB64(sha1)).toHaveLength(22);
    expect(toB64(sha1)).toBe(sha1.toString("base64url").slice(0, 22));
  });

  it("hashFromHashes keeps duplicates and ignores order", () => {
    const a = "DMF1ucDxtqgxw5niaXcmYQ";
    expect(hashFromHashes([a, a])).toBe("7RMkvO_6BniGtH2n8vA6tg");
    expect(hashFromHashes([a])).not.toBe(hashFromHashes([a, a]));
    expect(hashFromHashes(["b", "a", "c"])).toBe(hashFromHashes(["c", "a", "b"]));
  });

  it("s3 etag rejects garbage", () => {
    expect(() => hashFromS3Etag('"not-an-etag"')).toThrow(ValidationError);
    expect(hashFromS3Etag("d41d8cd98f00b204e9800998ecf8427e").hashType).toBe("md5");
  });

  it("compareCodePoints orders astral characters after U+FFFF like Python", () => {
    expect(["\uffff", "😀", "a"].sort(compareCodePoints)).toEqual(["a", "\uffff", "😀"]);
    expect(["-", "_", "A", "a", "0"].sort(compareCodePoints)).toEqual(["-", "0", "A", "_", "a"]);
  });
});

describe("pythonJsonDumps / hashDict / hashJsonValue (expected values from CPython 3)", () => {
  it("nested dicts: sorted keys at every level, Python separators", () => {
    const d = { z: { y: [1, 2.5, { b: null, a: true }], x: {} }, a: [], m: "plain" };
    const s = '{"a": [], "m": "plain", "z": {"x": {}, "y": [1, 2.5, {"a": true, "b": null}]}}';
    expect(pythonJsonDumps(d)).toBe(s);
    expect(hashDict(d)).toBe("w897Ty_7Zgs00UuBrbRXww");
  });

  it("unicode: ensure_ascii escapes, surrogate pairs for emoji, control chars", () => {
    const d = {
      name: "Zürich – café",
      emoji: "🧬 DNA 😀",
      ctrl: 'tab\tnl\nquote"back\\slash\u0001\u007f',
      cjk: "細胞",
    };
    expect(pythonJsonDumps(d)).toBe(
      '{"cjk": "\\u7d30\\u80de", "ctrl": "tab\\tnl\\nquote\\"back\\\\slash\\u0001\\u007f", ' +
        '"emoji": "\\ud83e\\uddec DNA \\ud83d\\ude00", "name": "Z\\u00fcrich \\u2013 caf\\u00e9"}',
    );
    expect(hashDict(d)).toBe("OX4-vOJI7SesmUeL54o2qw");
  });

  it("floats like Python repr; safe integers as ints", () => {
    const d = {
      f: [
        37.5,
        0.1,
        1e-5,
        0.0001,
        1e16,
        1.5e300,
        -2.5e-7,
        123456.789,
        -0,
        NaN,
        Infinity,
        -Infinity,
      ],
      i: [0, -1, 9007199254740991],
    };
    expect(pythonJsonDumps(d)).toBe(
      '{"f": [37.5, 0.1, 1e-05, 0.0001, 1e+16, 1.5e+300, -2.5e-07, 123456.789, -0.0, NaN, ' +
        'Infinity, -Infinity], "i": [0, -1, 9007199254740991]}',
    );
    expect(hashDict(d)).toBe("NKf8_iYIDG8ByMH1-6SL2A");
    expect(pythonJsonDumps(1)).toBe("1"); // a JS integer is an int, never "1.0"
    expect(pythonJsonDumps(10n ** 20n)).toBe("100000000000000000000");
    for (const [x, s] of [
      [1e22, "1e+22"],
      [123456789012345680000, "1.2345678901234568e+20"],
      [1 / 3, "0.3333333333333333"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [2 ** 53, "9007199254740992.0"],
      [1e15 + 0.5, "1000000000000000.5"],
    ] as const) {
      expect(pythonFloatRepr(x)).toBe(s);
    }
  });

  it("keys sorted by code point, not UTF-16 unit", () => {
    const d = { "😀": 1, "\uffff": 2, a: 3, B: 4, "": 5 };
    expect(pythonJsonDumps(d)).toBe('{"": 5, "B": 4, "a": 3, "\\uffff": 2, "\\ud83d\\ude00": 1}');
    expect(hashDict(d)).toBe("N4eWshdd0kvX_CU0N9JXnw");
  });

  it("rejects values Python's json cannot dump; omits undefined properties", () => {
    expect(() => pythonJsonDumps(new Map())).toThrow(ValidationError);
    expect(() => pythonJsonDumps([undefined])).toThrow(ValidationError);
    expect(() => pythonJsonDumps(() => 1)).toThrow(ValidationError);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => pythonJsonDumps(circular)).toThrow(ValidationError);
    expect(pythonJsonDumps({ a: undefined, b: 1 })).toBe('{"b": 1}');
  });

  it("hashJsonValue of non-dicts uses Python str()", () => {
    expect(hashJsonValue(null)).toBe(hashString("None"));
    expect(hashJsonValue(null)).toBe("at-X-DrPZFPUpqSxBw83VA");
    expect(hashJsonValue(false)).toBe("-DILJtMKtDPFpUVG0h9BTA");
    expect(hashJsonValue([1, "a", null, true, 2.5, "it's", 'say "hi"'])).toBe(
      "qjDNpNF76V6WvQq3POcCrQ",
    );
    expect(hashJsonValue(["tab\t", "é", "\u00a0", "\u2028", "😀", "\u0000", { k: [1] }])).toBe(
      "yRL87JD8tKWvuH8IZtk-rQ",
    );
  });
});

// ------------------------------------------------------------------------------------------------
// ranged reads and large files
// ------------------------------------------------------------------------------------------------

describe("hashFromRanges", () => {
  for (const size of [0, 1, 50 * MiB, 50 * MiB + 1, 120 * MiB]) {
    it(
      `agrees with hashFile for ${size} bytes and reads at most 2 × 50 MiB`,
      async () => {
        const path = join(tmp, `ranges_${size}.bin`);
        await writePattern(path, size);
        const fh = await open(path, "r");
        try {
          const file = await hashFile(path);
          const { stats, read } = countingFileReader(fh);
          expect(await hashFromRanges(size, read)).toEqual(file);
          expect(stats.bytes).toBe(bytesToHash(size));
          expect(stats.bytes).toBeLessThanOrEqual(2 * HASH_CHUNK);
          if (size > HASH_CHUNK) {
            expect(stats.ranges).toEqual([
              [0, HASH_CHUNK],
              [size - HASH_CHUNK, size],
            ]);
          }
          // an in-memory reader with odd chunk sizes gives the same result
          expect(
            await hashFromRanges(size, async function* (s, e) {
              yield* patternRange(s, e);
            }),
          ).toEqual(file);
        } finally {
          await fh.close();
          await rm(path, { force: true });
        }
      },
      BIG,
    );
  }

  it(
    "sha1-fl of a 4 GiB sparse file reads only the first and last 50 MiB",
    async () => {
      const size = 4 * 1024 * MiB;
      const path = join(tmp, "sparse.bin");
      const fh = await open(path, "w+");
      try {
        await fh.truncate(size);
        const { stats, read } = countingFileReader(fh);
        const viaRanges = await hashFromRanges(size, read);
        expect(stats.ranges).toEqual([
          [0, HASH_CHUNK],
          [size - HASH_CHUNK, size],
        ]);
        expect(stats.bytes).toBe(2 * HASH_CHUNK);
        let hashed = 0;
        const viaFile = await hashFile(path, (n) => {
          hashed = n;
        });
        expect(viaFile).toEqual(viaRanges);
        expect(hashed).toBe(2 * HASH_CHUNK);
        // independent computation: both 50 MiB chunks are zeros
        const zeros = createHash("sha1").update(Buffer.alloc(HASH_CHUNK)).digest();
        const expected = toB64(createHash("sha1").update(zeros).update(zeros).digest());
        expect(viaFile).toEqual({ size, hash: expected, hashType: "sha1-fl" });
      } finally {
        await fh.close();
        await rm(path, { force: true });
      }
    },
    BIG,
  );

  it("throws IntegrityError when a range yields too few or too many bytes", async () => {
    const short = async function* (s: number, e: number) {
      yield Buffer.alloc(Math.max(0, e - s - 1));
    };
    await expect(hashFromRanges(10, short)).rejects.toBeInstanceOf(IntegrityError);
    const long = async function* (s: number, e: number) {
      yield Buffer.alloc(e - s + 1);
    };
    await expect(hashFromRanges(10, long)).rejects.toBeInstanceOf(IntegrityError);
    await expect(hashFromRanges(-1, short)).rejects.toBeInstanceOf(ValidationError);
  });
});

// ------------------------------------------------------------------------------------------------
// folders and errors
// ------------------------------------------------------------------------------------------------

describe("hashFolder", () => {
  it("ignores names and layout, keeps duplicates", async () => {
    const a = join(tmp, "names_a");
    const b = join(tmp, "names_b");
    await writeText(join(a, "one.txt"), "first");
    await writeText(join(a, "sub/two.txt"), "second");
    await writeText(join(b, "z/y/x/renamed.bin"), "second");
    await writeText(join(b, ".other"), "first");
    const [ra, rb] = await Promise.all([hashFolder(a), hashFolder(b)]);
    expect(ra.hash).toBe(rb.hash);
    expect(rb.files.map((f) => f.relPath)).toEqual([".other", "z/y/x/renamed.bin"]);
    await writeText(join(b, "dup.txt"), "first");
    expect((await hashFolder(b)).hash).not.toBe(ra.hash);
  });

  it("follows symlinked files, not symlinked folders; skips broken links", async () => {
    const root = join(tmp, "links");
    const outside = join(tmp, "links_outside");
    await writeText(join(outside, "target.txt"), "a");
    await writeText(join(outside, "dir/inner.txt"), "b");
    await writeText(join(root, "real.txt"), "abc");
    await symlink(join(outside, "target.txt"), join(root, "link.txt"));
    await symlink(join(outside, "dir"), join(root, "linkdir"));
    await symlink(join(outside, "missing"), join(root, "broken"));
    const r = await hashFolder(root);
    expect(r.files).toEqual([
      { relPath: "link.txt", size: 1, hash: "DMF1ucDxtqgxw5niaXcmYQ" },
      { relPath: "real.txt", size: 3, hash: "kAFQmDzST7DWlj99KOF_cg" },
    ]);
    expect(r.nFiles).toBe(2);
    expect(r.size).toBe(4);
  });

  it("same result for any concurrency, sync or async small-file reads; cumulative progress", async () => {
    const root = join(tmp, "many");
    const files: [string, Buffer][] = [];
    for (let i = 0; i < 300; i++) files.push([`d${i % 7}/f${i}.txt`, Buffer.from(`file ${i}\n`)]);
    files.push(["medium.bin", patternBytes(3 * MiB + 17)]); // > 64 KiB: async path
    files.push(["empty", Buffer.alloc(0)]);
    for (const [rel, data] of files) await writeText(join(root, rel), data);
    const total = files.reduce((acc, [, d]) => acc + d.length, 0);
    const progress: number[] = [];
    const r1 = await hashFolder(root, { onProgress: (n) => progress.push(n) });
    const r2 = await hashFolder(root, { concurrency: 1, syncSmallFiles: false });
    const r3 = await hashFolder(root, { concurrency: 64 });
    expect(r1).toEqual(r2);
    expect(r1).toEqual(r3);
    expect(r1.nFiles).toBe(302);
    expect(r1.size).toBe(total);
    expect(progress.at(-1)).toBe(total);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    const sorted = r1.files.map((f) => f.relPath);
    expect(sorted).toEqual([...sorted].sort(compareCodePoints));
  });

  it("empty folder (also with empty subfolders) throws ValidationError", async () => {
    const root = join(tmp, "empty");
    await mkdir(join(root, "sub/deeper"), { recursive: true });
    const err = await hashFolder(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toMatch(/contains no files/);
    expect((err as ValidationError).hint).toBeTruthy();
  });

  it("missing paths and wrong kinds throw ValidationError with a hint", async () => {
    const missing = join(tmp, "does-not-exist");
    // Start each call only when awaited: a rejection left pending while another is awaited
    // would be reported as unhandled.
    const calls = [
      () => hashFile(missing),
      () => hashFolder(missing),
      () => hashFile(join(missing, "x")),
    ];
    for (const call of calls) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).hint).toBeTruthy();
    }
    const file = join(tmp, "plain.txt");
    await writeText(file, "x");
    await expect(hashFolder(file)).rejects.toBeInstanceOf(ValidationError);
    await expect(hashFile(tmp)).rejects.toBeInstanceOf(ValidationError);
    await expect(hashFolder(tmp, { concurrency: 0 })).rejects.toBeInstanceOf(ValidationError);
  });
});
