/**
 * LaminDB's canonical suffix: lower-cased, restricted to known formats, composite suffixes kept
 * (`.anndata.zarr`, `.ome.zarr`) and compression appended to a known suffix (`.csv.gz`).
 */
const KNOWN = new Set(
  (
    ".csv .tsv .txt .json .jsonl .ndjson .yaml .yml .toml .xml .html .htm .md .rst .pdf .svg .png" +
    " .jpg .jpeg .gif .tif .tiff .bmp .webp .czi .nd2 .lif .ims .parquet .feather .arrow .ipc" +
    " .orc .avro .h5 .hdf5 .h5ad .h5mu .zarr .loom .mtx .rds .rda .rdata .npy .npz .pkl .pickle" +
    " .pt .pth .ckpt .safetensors .onnx .joblib .tiledbsoma .fastq .fq .fasta .fa .fna .faa .bam" +
    " .bai .sam .cram .crai .vcf .bcf .bed .bedgraph .bigwig .bw .gtf .gff .gff3 .fcs .nii .dcm" +
    " .xlsx .xls .ods .tar .zip .py .ipynb .r .rmd .qmd .sh .js .ts .sql .log .spatialdata .cool" +
    " .mcool .hic .pod5 .fast5 .sra .wig .maf .db .sqlite .duckdb"
  ).split(" "),
);
const COMPOSITE = new Set([
  ".anndata.zarr",
  ".vitessce.json",
  ".ome.zarr",
  ".ome.tif",
  ".ome.tiff",
  ".ome.h5",
  ".ome.hdf5",
  ".spatialdata.zarr",
]);
const ENCODINGS = new Set([".gz", ".bz2", ".xz", ".zst"]);

/** Python's `Path(name).suffixes`: every `.part` after the stem (a leading dot is not one). */
export function rawSuffixes(name: string): string[] {
  const base = name.split("/").filter(Boolean).pop() ?? "";
  const body = base.replace(/^\.+/, "");
  if (base.endsWith(".")) return [];
  const parts = body.split(".");
  return parts.slice(1).map((p) => `.${p}`);
}

/** The suffix as LaminDB stores it in `lamindb_artifact.suffix` ("" when unknown). */
export function canonicalSuffix(name: string): string {
  const parts = rawSuffixes(name).map((s) => s.toLowerCase());
  const last = parts.at(-1);
  if (!last) return "";
  const prev = parts.at(-2);
  if (ENCODINGS.has(last)) {
    if (prev && KNOWN.has(prev)) {
      const beforePrev = parts.at(-3);
      if (beforePrev && COMPOSITE.has(beforePrev + prev)) return beforePrev + prev + last;
      return prev + last;
    }
    return last;
  }
  if (prev && COMPOSITE.has(prev + last)) return prev + last;
  return KNOWN.has(last) ? last : "";
}

/** The raw (case-preserving) suffix chain used to check a key against its file, e.g. `.csv.gz`. */
export function rawSuffix(name: string): string {
  const canonical = canonicalSuffix(name);
  const parts = rawSuffixes(name);
  if (canonical) {
    const n = canonical.split(".").length - 1;
    return parts.slice(-n).join("");
  }
  return parts.at(-1) ?? "";
}
