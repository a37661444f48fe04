/**
 * Canonical suffixes are LaminDB's: the vectors were computed by lamindb-setup's own
 * `CanonicalSuffix.extract_from_path` (scripts/suffix-vectors.py, commit in the fixture).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalSuffix, extractSuffix, KNOWN_SUFFIXES, rawSuffix } from "../core/suffix.js";
import { REPO } from "./helpers.js";

const fixture = JSON.parse(
  readFileSync(join(REPO, "test", "fixtures", "canonical-suffix-vectors.json"), "utf8"),
) as {
  source: string;
  simple_formats: string[];
  composite_formats: string[];
  encoding_formats: string[];
  vectors: { path: string; canonical: string; raw: string }[];
};

describe("LaminDB's canonical suffix", () => {
  it("knows LaminDB's 232 simple, 5 composite and 4 encoding formats", () => {
    expect(fixture.source).toMatch(/^lamindb-setup d6009c83/);
    expect(KNOWN_SUFFIXES.simple).toHaveLength(232);
    expect(KNOWN_SUFFIXES.simple).toEqual(fixture.simple_formats);
    expect(KNOWN_SUFFIXES.composite).toEqual(fixture.composite_formats);
    expect(KNOWN_SUFFIXES.encoding).toEqual(fixture.encoding_formats);
  });

  it("derives the canonical and raw suffix of every vector as lamindb-setup does", () => {
    expect(fixture.vectors.length).toBeGreaterThan(1500);
    const wrong = fixture.vectors.filter((v) => {
      const got = extractSuffix(v.path);
      return got.canonical !== v.canonical || got.raw !== v.raw;
    });
    expect(wrong.map((v) => ({ ...v, got: extractSuffix(v.path) }))).toEqual([]);
  });

  it("matches the examples where an older list of formats differed", () => {
    // formats LaminDB knows
    for (const s of [".mp4", ".doc", ".bin", ".qs", ".state_dict"]) {
      expect(canonicalSuffix(`x${s}`)).toBe(s);
    }
    // formats LaminDB does not know
    for (const s of [".fa", ".fna", ".toml", ".ts", ".R", ".nii"]) {
      expect(canonicalSuffix(`x${s}`), s).toBe("");
      expect(rawSuffix(`x${s}`)).toBe(s.toLowerCase());
    }
    expect(canonicalSuffix("x.h5ad.tar.xz")).toBe(".h5ad.tar.xz");
    expect(canonicalSuffix("x.nii.gz")).toBe(".gz");
    expect(canonicalSuffix("dir/SAMPLE.OME.ZARR")).toBe(".ome.zarr");
    expect(rawSuffix("Data.CSV.GZ")).toBe(".csv.gz");
  });
});
