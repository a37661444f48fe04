import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../core/errors.js";
import {
  BASE62_ALPHABET,
  base62EncodeBytes,
  bioRecordUid,
  decodeBase62,
  encodeBase62,
  incrementVersionSuffix,
  instanceIdFromSlug,
  instanceUidFromId,
  maxVersionSuffix,
  NAMESPACE_URL,
  newVersionedUid,
  nextVersionedUid,
  randomBase62,
  stemOf,
  UID_LENGTHS,
  uuid5,
} from "../core/uid.js";

interface Vector {
  name: string;
  kind: string;
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

describe("hash_vectors.json uid vectors", () => {
  it("uid_suffix: incrementVersionSuffix", () => {
    const vs = byKind("uid_suffix");
    expect(vs).toHaveLength(6);
    for (const v of vs) expect(incrementVersionSuffix(v.input as string), v.name).toBe(v.output);
  });

  it("instance_uid: uuid5(NAMESPACE_URL, slug) → base62(md5(hex))[:12]", () => {
    const vs = byKind("instance_uid");
    expect(vs).toHaveLength(2);
    for (const v of vs) {
      const id = instanceIdFromSlug(v.input as string);
      expect(id, v.name).toBe(v.instance_id);
      expect(instanceUidFromId(id), v.name).toBe(v.output);
      expect(instanceUidFromId(uuid5(NAMESPACE_URL, v.input as string)), v.name).toBe(v.output);
    }
  });

  it("bionty_uid: base62(md5(key))[:14]", () => {
    const vs = byKind("bionty_uid");
    expect(vs).toHaveLength(2);
    for (const v of vs) expect(bioRecordUid(v.input as string), v.name).toBe(v.output);
  });
});

describe("base62", () => {
  it("encodes md5 bytes like lamin-utils (gen_vectors self-check)", () => {
    const digest = createHash("md5").update("10075f070b0b48b0900618724fb3be62").digest();
    expect(base62EncodeBytes(digest)).toBe("7clAMMtTbqlKVQPmUbqnIq");
  });

  it("leading zero bytes become '0'+count pairs", () => {
    expect(base62EncodeBytes(new Uint8Array([]))).toBe("");
    expect(base62EncodeBytes(new Uint8Array([0]))).toBe("01");
    expect(base62EncodeBytes(new Uint8Array([0, 0, 1]))).toBe("021");
    expect(base62EncodeBytes(new Uint8Array([1, 0]))).toBe("48"); // 256 = 4·62 + 8
    expect(base62EncodeBytes(new Uint8Array(61))).toBe("0z");
    expect(base62EncodeBytes(new Uint8Array(62))).toBe("0z01");
    expect(base62EncodeBytes(new Uint8Array([...new Array(63).fill(0), 61]))).toBe("0z02z");
  });

  it("decode inverts encode and rejects foreign characters", () => {
    for (const n of [0n, 1n, 61n, 62n, 3843n, 2n ** 128n - 1n]) {
      expect(decodeBase62(encodeBase62(n))).toBe(n);
    }
    expect(decodeBase62("z")).toBe(61n);
    expect(decodeBase62("10")).toBe(62n);
    expect(() => decodeBase62("ab-c")).toThrow(ValidationError);
    expect(() => decodeBase62("é")).toThrow(ValidationError);
  });

  it("randomBase62: right length and alphabet, roughly uniform", () => {
    expect(randomBase62(0)).toBe("");
    for (const n of [1, 8, 12, 16, 20, 1000]) {
      const s = randomBase62(n);
      expect(s).toHaveLength(n);
      expect(s).toMatch(/^[0-9A-Za-z]*$/);
    }
    const counts = new Map<string, number>();
    const sample = randomBase62(62_000);
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // expected 1000 per char, σ ≈ 31: a biased `% 62` of bytes would skew the first 8 chars by +25 %
    for (const c of BASE62_ALPHABET) {
      expect(counts.get(c)).toBeGreaterThan(820);
      expect(counts.get(c)).toBeLessThan(1180);
    }
    expect(() => randomBase62(-1)).toThrow(ValidationError);
  });
});

describe("uuid5", () => {
  it("matches Python uuid.uuid5 for known values", () => {
    // python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "testuser1/mydata"))'
    expect(uuid5(NAMESPACE_URL, "testuser1/mydata")).toBe("bad64064-a38a-5d18-ae16-54872904d661");
    // RFC 4122 / Python docs example: uuid5(NAMESPACE_DNS, "python.org")
    expect(uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org")).toBe(
      "886313e1-3b8a-5372-9b90-0c9aee199e5d",
    );
  });

  it("instanceUidFromId accepts dashed and upper-case ids", () => {
    const id = instanceIdFromSlug("testuser1/mydata");
    expect(instanceUidFromId("BAD64064-A38A-5D18-AE16-54872904D661")).toBe(instanceUidFromId(id));
    expect(() => instanceUidFromId("nope")).toThrow(ValidationError);
  });
});

describe("versioned uids", () => {
  it("UID_LENGTHS per laminspec §2.2", () => {
    expect(UID_LENGTHS.artifact).toEqual({ stem: 16, full: 20 });
    expect(UID_LENGTHS.collection).toEqual({ stem: 16, full: 20 });
    expect(UID_LENGTHS.transform).toEqual({ stem: 12, full: 16 });
    expect(UID_LENGTHS.run).toBe(16);
    expect(UID_LENGTHS.ulabel).toBe(8);
  });

  it("newVersionedUid: random stem + 0000", () => {
    for (const kind of ["artifact", "collection", "transform"] as const) {
      const uid = newVersionedUid(kind);
      expect(uid).toHaveLength(UID_LENGTHS[kind].full);
      expect(uid.endsWith("0000")).toBe(true);
      expect(stemOf(uid, kind)).toBe(uid.slice(0, UID_LENGTHS[kind].stem));
    }
    expect(newVersionedUid("artifact")).not.toBe(newVersionedUid("artifact"));
  });

  it("increment examples from laminspec §2.3", () => {
    expect(incrementVersionSuffix("0000")).toBe("0001");
    expect(incrementVersionSuffix("0009")).toBe("000A");
    expect(incrementVersionSuffix("000Z")).toBe("000a");
    expect(incrementVersionSuffix("000z")).toBe("0010");
    expect(incrementVersionSuffix("zzzz")).toBe("10000");
    expect(incrementVersionSuffix("1")).toBe("0002");
  });

  it("maxVersionSuffix compares base62 values, not strings", () => {
    const stem = "abcdefghijklmnop";
    // string order (and case-insensitive collations) would pick "000Z" or "000a" wrongly
    const uids = [`${stem}000Z`, `${stem}0010`, `${stem}000a`, `${stem}0009`];
    expect(maxVersionSuffix(uids, 16)).toBe("0010");
    expect(maxVersionSuffix([`${stem}000a`, `${stem}000Z`], 16)).toBe("000a");
    expect(maxVersionSuffix([], 16)).toBeUndefined();
    expect(maxVersionSuffix([stem], 16)).toBeUndefined();
  });

  it("nextVersionedUid increments the family maximum", () => {
    const stem = "abcdefghijkl";
    const family = [`${stem}0000`, `${stem}0003`, `${stem}0001`, "otherstem1230009"];
    expect(nextVersionedUid("transform", `${stem}0001`, family)).toBe(`${stem}0004`);
    expect(nextVersionedUid("transform", `${stem}0000`, [])).toBe(`${stem}0001`);
    expect(() => nextVersionedUid("transform", `${stem}zzzz`, [])).toThrow(ValidationError);
  });
});
