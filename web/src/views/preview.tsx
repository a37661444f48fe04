/**
 * Previews, from the bytes the API serves with range requests (never the whole of a large file):
 * the first rows of CSV/TSV (the first 64 KB) and Parquet (its footer, then the first row group
 * only, read by hyparquet, loaded on demand), images (as blob: URLs; an SVG in an <img> runs no
 * script), Markdown (rendered to elements, never HTML), JSON and plain text (as text). Anything
 * else, HTML included, is shown as text or not at all: it never runs in this page.
 */
import { useEffect, useState } from "preact/hooks";
import { type Artifact, type ByteSource, byteSource, getJson, readBytes, readRange } from "../api";
import { bytes } from "../format";
import { Markdown } from "../markdown";
import { ErrorNote, Loading } from "./common";

const HEAD_BYTES = 64 * 1024;
const TEXT_BYTES = 256 * 1024;
const IMAGE_BYTES = 20 * 1000 * 1000;
const ROWS = 20;
const FOOTER_BYTES = 16 * 1024;

type Kind = "csv" | "tsv" | "parquet" | "image" | "markdown" | "json" | "text" | "none";

const IMAGE_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
};
const TEXT = new Set([
  ".txt",
  ".log",
  ".py",
  ".r",
  ".sh",
  ".yaml",
  ".yml",
  ".toml",
  ".ts",
  ".js",
  ".html",
  ".htm",
  ".xml",
  ".fasta",
  ".fa",
  ".bed",
  ".gtf",
  ".ini",
  ".cfg",
  ".sql",
]);

export function previewKind(suffix: string): Kind {
  const s = suffix.toLowerCase();
  if (s === ".csv") return "csv";
  if (s === ".tsv") return "tsv";
  if (s === ".parquet") return "parquet";
  if (IMAGE_TYPES[s]) return "image";
  if (s === ".md" || s === ".markdown") return "markdown";
  if (s === ".json") return "json";
  if (TEXT.has(s)) return "text";
  return "none";
}

type Shown =
  | { kind: "table"; columns: string[]; rows: unknown[][]; note: string }
  | { kind: "image"; url: string }
  | { kind: "markdown"; text: string; note?: string }
  | { kind: "text"; text: string; note?: string }
  | { kind: "files"; files: { path: string; size: number }[] }
  | { kind: "none"; note: string };

export function Preview({ artifact, url }: { artifact: Artifact; url: string }) {
  // what is shown, and for which artifact: never another artifact's, not even for one render
  const [state, setState] = useState<{
    uid: string;
    shown?: Shown | { kind: "error"; error: unknown };
  }>({
    uid: artifact.uid,
  });
  useEffect(() => {
    let live = true;
    let objectUrl: string | undefined;
    setState({ uid: artifact.uid });
    load(artifact, url).then(
      (s) => {
        if (s.kind === "image") objectUrl = s.url;
        if (live) setState({ uid: artifact.uid, shown: s });
        else if (objectUrl) URL.revokeObjectURL(objectUrl);
      },
      (error) => live && setState({ uid: artifact.uid, shown: { kind: "error", error } }),
    );
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [artifact.uid, url]);
  const shown = state.uid === artifact.uid ? state.shown : undefined;
  if (!shown) return <Loading what="Loading the preview" />;
  switch (shown.kind) {
    case "error":
      return <ErrorNote error={shown.error} />;
    case "table":
      return (
        <div class="scroll" data-testid="preview-table">
          <table class="grid compact">
            <caption class="muted">{shown.note}</caption>
            <thead>
              <tr>
                {shown.columns.map((c, i) => (
                  <th key={i} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.rows.map((row, r) => (
                <tr key={r}>
                  {row.map((v, i) => (
                    <td key={i}>{cell(v)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    case "image":
      return (
        <img
          class="preview-image"
          src={shown.url}
          alt={`preview of ${artifact.key ?? artifact.uid}`}
        />
      );
    case "markdown":
      return (
        <div data-testid="preview-markdown">
          <Markdown source={shown.text} />
          {shown.note && <p class="muted">{shown.note}</p>}
        </div>
      );
    case "text":
      return (
        <div data-testid="preview-text">
          <pre class="preview-text">{shown.text}</pre>
          {shown.note && <p class="muted">{shown.note}</p>}
        </div>
      );
    case "files":
      return (
        <ul data-testid="preview-files">
          {shown.files.slice(0, 200).map((f) => (
            <li key={f.path}>
              <code>{f.path}</code> <span class="muted">{bytes(f.size)}</span>
            </li>
          ))}
        </ul>
      );
    default:
      return <p class="muted">{shown.note}</p>;
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object")
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  return String(v);
}

async function load(a: Artifact, url: string): Promise<Shown> {
  if (a.n_files !== null) {
    const manifest = await getJson<{ files: { path: string; size: number }[] }>(url);
    return { kind: "files", files: manifest.files };
  }
  const size = a.size ?? 0;
  if (size === 0) return { kind: "none", note: "The file is empty." };
  const kind = previewKind(a.suffix);
  if (kind === "none" || (kind === "image" && size > IMAGE_BYTES)) return unpreviewable(a, size);
  const src = await byteSource(url);
  const head = async (n: number) => {
    const end = Math.min(size, n) - 1;
    const buf = await readRange(src, 0, end);
    const text = new TextDecoder("utf-8", { fatal: false }).decode(buf);
    const cut = size > n;
    // a cut may split the last line (or a UTF-8 character): drop it
    return { text: cut ? text.slice(0, Math.max(0, text.lastIndexOf("\n"))) : text, cut };
  };
  switch (kind) {
    case "csv":
    case "tsv": {
      const { text, cut } = await head(HEAD_BYTES);
      const [columns = [], ...rows] = parseDelimited(text, kind === "csv" ? "," : "\t", ROWS + 1);
      return {
        kind: "table",
        columns,
        rows,
        note: `The first ${rows.length} rows${cut ? ` (read ${bytes(Math.min(size, HEAD_BYTES))} of ${bytes(size)})` : ""}.`,
      };
    }
    case "parquet":
      return parquetHead(src, size);
    case "image": {
      const blob = new Blob([await readBytes(src)], {
        type: IMAGE_TYPES[a.suffix.toLowerCase()],
      });
      return { kind: "image", url: URL.createObjectURL(blob) };
    }
    case "markdown": {
      const { text, cut } = await head(TEXT_BYTES);
      return {
        kind: "markdown",
        text,
        ...(cut ? { note: `The first ${bytes(TEXT_BYTES)} of ${bytes(size)}.` } : {}),
      };
    }
    case "json": {
      const { text, cut } = await head(TEXT_BYTES);
      if (cut)
        return { kind: "text", text, note: `The first ${bytes(TEXT_BYTES)} of ${bytes(size)}.` };
      try {
        return { kind: "text", text: JSON.stringify(JSON.parse(text), null, 2) };
      } catch {
        return { kind: "text", text, note: "Not valid JSON: shown as text." };
      }
    }
    case "text": {
      const { text, cut } = await head(TEXT_BYTES);
      return {
        kind: "text",
        text,
        ...(cut ? { note: `The first ${bytes(TEXT_BYTES)} of ${bytes(size)}.` } : {}),
      };
    }
    default:
      return unpreviewable(a, size);
  }
}

/** Why a file is not previewed (nothing is read for it). */
function unpreviewable(a: Artifact, size: number): Shown {
  if (previewKind(a.suffix) === "image" && size > IMAGE_BYTES) {
    return { kind: "none", note: `The image is larger than ${bytes(IMAGE_BYTES)}: download it.` };
  }
  return {
    kind: "none",
    note: `No preview for ${a.suffix || "files without a suffix"}: download it.`,
  };
}

/** Rows of delimited text (RFC 4180 quotes), at most `limit`. */
export function parseDelimited(text: string, sep: string, limit: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < limit; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === sep) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if ((field !== "" || row.length > 0) && rows.length < limit) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The first rows of a Parquet file: its footer, then the first row group, by range requests. */
async function parquetHead(src: ByteSource, size: number): Promise<Shown> {
  const { parquetMetadataAsync, parquetReadObjects } = await import("hyparquet");
  let read = 0;
  const file = {
    byteLength: size,
    async slice(start: number, end?: number) {
      const last = (end ?? size) - 1;
      read += last - start + 1;
      return readRange(src, start, last);
    },
  };
  // footers are a few KB: 16 KB first (hyparquet reads the rest of a larger one after)
  const metadata = await parquetMetadataAsync(file, { initialFetchSize: FOOTER_BYTES });
  const first = Number(metadata.row_groups[0]?.num_rows ?? 0);
  const rows = (await parquetReadObjects({
    file,
    metadata,
    rowStart: 0,
    rowEnd: Math.min(ROWS, first),
    // with an offset index (where the pages of each column are), only the first pages are read
    useOffsetIndex: true,
  })) as Record<string, unknown>[];
  const columns = metadata.schema
    .slice(1)
    .filter((s) => !s.num_children)
    .map((s) => s.name);
  return {
    kind: "table",
    columns,
    rows: rows.map((r) => columns.map((c) => r[c])),
    note: `The first ${rows.length} of ${Number(metadata.num_rows)} rows (read ${bytes(read)} of ${bytes(size)}: the footer and the start of the first row group).`,
  };
}
