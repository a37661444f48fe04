/**
 * LaminDB's canonical suffix (`CanonicalSuffix.extract_from_path` in lamindb-setup d6009c83,
 * lamindb_setup/core/canonical_suffix.py), rule for rule: lower-cased; a known simple format as
 * the last part (`.csv`); a composite format (`.anndata.zarr`, `.ome.zarr`) wins over its last
 * part; a stream encoding (`.gz`) keeps the known format before it (`.csv.gz`), and after `.tar`
 * also the known format before that (`.h5ad.tar.gz`); anything else is "" (vectors:
 * test/fixtures/canonical-suffix-vectors.json, made by scripts/suffix-vectors.py).
 */
const SIMPLE = new Set(
  (
    ".3g2 .3gp .3gpp .3gpp2 .7z .a .aac .adts .ai .aif .aifc .aiff .arrow .ass .au .avi .avif " +
    ".avro .bam .bat .bcf .bcpio .bed .bedgraph .bigwig .bin .bmp .bw .c .cdf .ckpt .cpio .cram " +
    ".csh .css .csv .czi .data .db .dcm .dll .doc .dot .duckdb .dvi .embl .eml .eps .etx .exe " +
    ".fasta .fastq .fcs .feather .gb .genbank .gff .gff3 .gguf .gif .gtar .gtf .h .h5 .h5ad .h5mu " +
    ".hdf .hdf5 .heic .heif .htm .html .ico .ief .ipynb .joblib .jpe .jpeg .jpg .js .json .jsonl " +
    ".keras .ksh .latex .lif .loas .loom .m1v .m3u .m3u8 .man .mar .markdown .md .me .mht .mhtml " +
    ".mid .midi .mif .mjs .mlmodel .model .mov .movie .mp2 .mp3 .mp4 .mpa .mpe .mpeg .mpg .ms " +
    ".mtx .n3 .nc .nd2 .ndjson .newick .npy .npz .nq .nt .nwk .nws .o .obj .obo .oda .onnx .opus " +
    ".orc .p12 .p7c .parquet .pb .pbm .pbtxt .pct .pdf .pfx .pgm .pic .pickle .pict .pkl .pl .png " +
    ".pnm .pot .ppa .ppm .pps .ppt .ps .pt .pth .pwz .py .pyc .pyo .qs .qt .ra .ram .rar .ras " +
    ".rdf .rds .rgb .roff .rtf .rtx .safetensors .sam .savedmodel .sgm .sgml .sh .shar .snd .so " +
    ".soma .sqlite .src .srt .state_dict .sv4cpio .sv4crc .svg .svs .swf .t .tar .tcl .tex .texi " +
    ".texinfo .tflite .tif .tiff .tiledb .tiledbsoma .tr .trig .tsv .txt .ustar .vcf .vtt .wasm " +
    ".wav .webm .webmanifest .webp .wiz .wsdl .xbm .xlb .xls .xlsx .xml .xpdl .xpm .xsl .xul .xwd " +
    ".yaml .yml .zarr .zip"
  ).split(" "),
);
const COMPOSITE = [".anndata.zarr", ".vitessce.json", ".ome.zarr", ".ome.h5", ".ome.hdf5"];
const ENCODING = new Set([".gz", ".bz2", ".xz", ".zst"]);

/** LaminDB's formats, for tests and docs: simple, composite and encoding suffixes. */
export const KNOWN_SUFFIXES = {
  simple: [...SIMPLE].sort(),
  composite: [...COMPOSITE].sort(),
  encoding: [...ENCODING].sort(),
} as const;

/** Python's `PurePosixPath(name).suffixes` (3.11): every `.part` after the stem. */
export function rawSuffixes(name: string): string[] {
  const base = name.split("/").filter(Boolean).pop() ?? "";
  if (base === "." || base.endsWith(".")) return [];
  return base
    .replace(/^\.+/, "")
    .split(".")
    .slice(1)
    .map((p) => `.${p}`);
}

/**
 * `CanonicalSuffix.extract_from_path`: the suffix LaminDB stores in `lamindb_artifact.suffix`
 * ("" when the format is unknown) and the raw one it compares keys with (lower-cased, the
 * last part when unknown).
 */
export function extractSuffix(name: string): { canonical: string; raw: string } {
  const parts = rawSuffixes(name).map((s) => s.toLowerCase());
  const last = parts.at(-1) ?? "";
  const both = (s: string) => ({ canonical: s, raw: s });
  if (parts.length < 2) {
    return SIMPLE.has(last) || ENCODING.has(last) ? both(last) : { canonical: "", raw: last };
  }
  const total = parts.join("");
  const composite = COMPOSITE.find((c) => total.endsWith(c));
  if (composite) return both(composite);
  if (SIMPLE.has(last)) return both(last);
  if (ENCODING.has(last)) {
    const prev = parts.at(-2) as string;
    if (prev === ".tar") {
      const before = parts.at(-3);
      return both(before !== undefined && SIMPLE.has(before) ? before + prev + last : prev + last);
    }
    return both(SIMPLE.has(prev) ? prev + last : last);
  }
  return { canonical: "", raw: last };
}

/** The suffix as LaminDB stores it in `lamindb_artifact.suffix` ("" when unknown). */
export function canonicalSuffix(name: string): string {
  return extractSuffix(name).canonical;
}

/** The raw suffix LaminDB compares a key with its file by, e.g. `.csv.gz` (lower-cased). */
export function rawSuffix(name: string): string {
  return extractSuffix(name).raw;
}
