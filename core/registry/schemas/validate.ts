/**
 * Validate tabular and JSON data against a schema (LaminDB's `DataFrameCurator(df, schema)
 * .validate()` and `ExperimentalDictCurator`), and annotate an artifact saved with it.
 *
 * Formats: CSV, TSV (RFC 4180 quoting), Parquet (hyparquet), JSON (an array of records, or one
 * record as an object of feature → value). Checks, all of them, reported together: missing
 * columns (minimal_set), extra columns (maximal_set), column order (ordered_set), each value's
 * dtype (with coerce: "37" → 37), nulls of non-nullable features, categorical values that are
 * not in their registry (`cat[ULabel]`, `cat[Record]`, `cat[Artifact]`, `cat[User]`, ... and
 * `cat[bionty.X(.field)]`: categories.ts).
 * Every offending column is listed with its first 20 distinct values and their counts, with
 * close matches for unknown columns and unknown labels.
 *
 * A flexible schema also validates columns that are registered features but not its members.
 * A composite schema validates a folder: each slot is the table file of that stem (slot `obs`:
 * `obs.csv`, `obs.tsv`, `obs.parquet` or `obs.json`; slot `var.T`: `var.T.csv`, ...), checked
 * with the slot's component; the report has one report per slot, all issues together.
 *
 * Reading (`readTable`, `readSlotTables`) is apart from checking (`checkTable`, `checkTables`):
 * over HTTP the client reads its files and the server checks what it posted, with the same code.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.js";
import { LaminError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { lookupModuleValues } from "../../modules/index.js";
import { checkSimple, closeMatches, fromText, parseDtype } from "../annotations/annotations.js";
import {
  CAT_REGISTRIES,
  type CatTarget,
  findValues,
  VALUE_LINKS,
  valuePool,
} from "../annotations/categories.js";
import type { SaveOptions, SaveResult } from "../artifacts/artifacts.js";
import { TRASH } from "../common/branch.js";
import { currentRun } from "../lineage/run-context.js";
import { COMPOSITE, type Schema, type SchemaMember } from "./schemas.js";

/** Distinct values listed per offending column. */
export const MAX_LISTED = 20;
/** Files larger than this are not read for validation. */
const MAX_BYTES = 512 * 1024 * 1024;

export interface ValueCount {
  value: unknown;
  count: number;
  closeMatches?: string[];
  /** The standard value this one is a synonym of (module registries). */
  synonymOf?: string;
}

export type Issue =
  | { kind: "missing-columns"; columns: { name: string; closeMatches: string[] }[] }
  | { kind: "extra-columns"; columns: { name: string; closeMatches: string[] }[] }
  | { kind: "column-order"; expected: string[]; actual: string[] }
  | {
      kind: "dtype";
      column: string;
      dtype: string;
      /** Offending values in all, and distinct ones; `values` lists the first MAX_LISTED. */
      count: number;
      distinct: number;
      values: ValueCount[];
    }
  | { kind: "nulls"; column: string; count: number; rows: number[] }
  | {
      kind: "not-in-registry";
      column: string;
      dtype: string;
      count: number;
      distinct: number;
      values: ValueCount[];
    }
  | { kind: "unsupported-dtype"; column: string; dtype: string }
  /** Composite schemas: a slot's table file is missing, is not one file, or cannot be read. */
  | {
      kind: "slot-file";
      slot: string;
      problem: "missing" | "several" | "unreadable";
      files: string[];
      message?: string;
    };

export interface ValidationReport {
  valid: boolean;
  schema: { uid: string; name: string | null };
  file: string;
  /** `folder` for a composite schema. */
  format: Format | "folder";
  n_rows: number;
  columns: string[];
  issues: Issue[];
  /** Composite schemas: the report of each slot's table file (slots whose file was found). */
  slots?: Record<string, ValidationReport>;
}

/** Issues of a report and of its slots. */
export function issueCount(report: ValidationReport): number {
  return (
    report.issues.length + Object.values(report.slots ?? {}).reduce((n, r) => n + issueCount(r), 0)
  );
}

/** A failed validation; `report` has every issue. */
export class SchemaValidationError extends ValidationError {
  constructor(
    readonly report: ValidationReport,
    /** the default is a refused save's; `lamin validate` never saves and says only what to do */
    hint = "fix the data (or the labels: lamin ulabel create NAME), then validate again; nothing was saved",
  ) {
    const lines = describeIssues(report);
    const n = issueCount(report);
    super(
      `${report.file} does not match schema '${report.schema.name ?? report.schema.uid}': ${n} issue${n > 1 ? "s" : ""}\n${lines.map((l) => `  ${l}`).join("\n")}`,
      hint,
    );
  }
}

// ------------------------------------------------------------------ reading

export type Format = "csv" | "tsv" | "parquet" | "json";

export interface Table {
  format: Format;
  columns: string[];
  /** Column → values, one per row (null = missing). */
  values: Map<string, unknown[]>;
  nRows: number;
  /** Values are text as written (CSV/TSV): parse them per dtype. */
  text: boolean;
  /** A JSON object: one record. */
  single: boolean;
}

export function formatOf(path: string): Format {
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".parquet") return "parquet";
  if (ext === ".json") return "json";
  throw new ValidationError(
    `cannot validate '${path}': ${ext ? `${ext} files are` : "a file without suffix is"} not supported`,
    "validate .csv, .tsv, .parquet or .json files",
  );
}

/** RFC 4180: quoted fields with doubled quotes, delimiters and newlines inside; CRLF or LF. */
export function parseDelimited(text: string, delimiter: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      i++;
    } else if (c === delimiter) {
      row.push(field);
      field = "";
      i++;
    } else if (c === "\n" || c === "\r") {
      row.push(field);
      out.push(row);
      row = [];
      field = "";
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new ValidationError("the file ends inside a quoted field", "close the quote");
  if (field !== "" || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  // blank lines are not rows
  return out.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** Text that pandas reads as a missing value. */
const NULL_TEXT = new Set(["", "NA", "NaN", "nan", "null", "NULL", "None"]);

function fromRows(format: Format, header: string[], body: unknown[][], text: boolean): Table {
  const values = new Map<string, unknown[]>(header.map((h) => [h, []]));
  for (const r of body) {
    header.forEach((h, j) => {
      (values.get(h) as unknown[]).push(r[j] ?? null);
    });
  }
  return { format, columns: header, values, nRows: body.length, text, single: false };
}

function uniqueHeader(header: string[], path: string): string[] {
  const dupes = [...new Set(header.filter((h, i) => header.indexOf(h) !== i))];
  if (dupes.length) {
    throw new ValidationError(
      `${path} has column${dupes.length > 1 ? "s" : ""} ${dupes.map((d) => `'${d}'`).join(", ")} more than once`,
      "give each column a distinct name",
    );
  }
  return header;
}

const plain = (v: unknown): unknown =>
  typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;

/** Read a file as a table of columns (the whole file is read; at most 512 MiB). */
export async function readTable(path: string): Promise<Table> {
  const format = formatOf(path);
  const info = await stat(path).catch(() => {
    throw new ValidationError(`no such file: ${path}`, "check the path");
  });
  if (!info.isFile()) throw new ValidationError(`${path} is not a file`);
  if (info.size > MAX_BYTES) {
    throw new ValidationError(`${path} is too large to validate here (${info.size} bytes)`);
  }
  const bytes = await readFile(path);
  if (format === "csv" || format === "tsv") {
    const grid = parseDelimited(bytes.toString("utf8"), format === "csv" ? "," : "\t");
    const [header, ...body] = grid;
    if (!header) throw new ValidationError(`${path} is empty`, "the first line names the columns");
    body.forEach((r, i) => {
      if (r.length !== header.length) {
        throw new ValidationError(
          `${path}: row ${i + 1} has ${r.length} fields, the header has ${header.length}`,
          "quote fields that contain the delimiter",
        );
      }
    });
    const table = fromRows(format, uniqueHeader(header, path), body, true);
    for (const [c, vs] of table.values) {
      table.values.set(
        c,
        vs.map((v) => (NULL_TEXT.has(v as string) ? null : v)),
      );
    }
    return table;
  }
  if (format === "parquet") {
    const { parquetMetadata, parquetReadObjects, parquetSchema } = await import("hyparquet");
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    let header: string[];
    let records: Record<string, unknown>[];
    try {
      const metadata = parquetMetadata(buffer);
      header = parquetSchema(metadata).children.map((c) => c.element.name);
      records = (await parquetReadObjects({ file: buffer, metadata })) as Record<string, unknown>[];
    } catch (error) {
      throw new ValidationError(
        `${path} is not a readable Parquet file: ${(error as Error).message}`,
        "write it with pyarrow, pandas or another Parquet writer",
      );
    }
    const body = records.map((r) => header.map((h) => plain(r[h])));
    return fromRows("parquet", header, body, false);
  }
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(data)) {
    const header = Object.keys(data);
    return { ...fromRows("json", header, [header.map((h) => data[h])], false), single: true };
  }
  if (Array.isArray(data) && data.every(isObject)) {
    const header: string[] = [];
    for (const r of data) for (const k of Object.keys(r)) if (!header.includes(k)) header.push(k);
    const body = data.map((r) => header.map((h) => (h in r ? r[h] : null)));
    return fromRows("json", header, body, false);
  }
  throw new ValidationError(
    `${path} holds neither one record (an object) nor a list of records`,
    'give [{"a": 1}, {"a": 2}] or {"a": 1}',
  );
}

// ------------------------------------------------------------------ checking values

const INT_TEXT = /^[+-]?\d+$/;
const NUM_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Text of a CSV field in the type pandas would read for this dtype (strict: "37.0" is a float). */
function parseText(simple: string, text: string): unknown {
  if (simple === "int") return INT_TEXT.test(text.trim()) ? Number(text) : text;
  if (simple === "float" || simple === "num")
    return NUM_TEXT.test(text.trim()) ? Number(text) : text;
  if (simple === "bool") return fromText("bool", text);
  return text;
}

/** Convert a value towards a dtype (schema or feature `coerce`); unconvertible values stay. */
function coerceValue(simple: string, v: unknown): unknown {
  const s = typeof v === "string" ? v.trim() : v;
  switch (simple) {
    case "int":
      if (typeof s === "string" && NUM_TEXT.test(s) && Number.isInteger(Number(s)))
        return Number(s);
      if (typeof s === "number" && Number.isInteger(s)) return s;
      if (typeof s === "boolean") return s ? 1 : 0;
      return v;
    case "float":
    case "num":
      if (typeof s === "string" && NUM_TEXT.test(s)) return Number(s);
      if (typeof s === "boolean") return s ? 1 : 0;
      return v;
    case "bool":
      if (typeof s === "string") {
        const l = s.toLowerCase();
        if (["true", "1", "yes"].includes(l)) return true;
        if (["false", "0", "no"].includes(l)) return false;
      }
      if (s === 1 || s === 0) return s === 1;
      return v;
    case "str":
    case "path":
    case "url":
      return typeof s === "number" || typeof s === "boolean" ? String(s) : v;
    case "date":
      if (typeof s === "string" && /^\d{4}-\d{2}-\d{2}[T ]/.test(s)) return s.slice(0, 10);
      return v;
    case "datetime":
      if (typeof s === "string" && /^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s}T00:00:00Z`;
      if (typeof s === "number") return new Date(s).toISOString();
      return v;
    default:
      return v;
  }
}

/** value → count, in first-seen order, keyed by a stable text. */
class Tally {
  readonly counts = new Map<string, { value: unknown; count: number }>();
  total = 0;
  add(value: unknown) {
    const key = typeof value === "string" ? `s:${value}` : `j:${JSON.stringify(value)}`;
    const hit = this.counts.get(key);
    if (hit) hit.count++;
    else this.counts.set(key, { value, count: 1 });
    this.total++;
  }
  list(): ValueCount[] {
    return [...this.counts.values()].slice(0, MAX_LISTED);
  }
}

/** The `dtype` issue of a column whose values in `bad` are not of its dtype. */
const dtypeIssue = (column: string, dtype: string, bad: Tally): Issue => ({
  kind: "dtype",
  column,
  dtype,
  count: bad.total,
  distinct: bad.counts.size,
  values: bad.list(),
});

type Runner = Pick<Db, "execute">;

/** Distinct values → those no record of the target names, with close names for each. */
async function lookupLabels(
  db: Runner,
  target: CatTarget,
  values: string[],
): Promise<Map<string, string[]>> {
  const found = await findValues(db, target, values);
  const missing = new Map<string, string[]>();
  const absent = values.filter((v) => !found.has(v));
  if (absent.length) {
    const pool = await valuePool(db, target);
    for (const a of absent.slice(0, MAX_LISTED)) missing.set(a, closeMatches(a, pool));
    for (const a of absent.slice(MAX_LISTED)) missing.set(a, []);
  }
  return missing;
}

interface ColumnPlan {
  column: string;
  member: SchemaMember;
}

/**
 * Check a table against a schema: every issue, none thrown. Also returns the values to
 * annotate a saved artifact with (categorical feature → distinct labels; a single JSON record:
 * every value of a feature that annotation supports).
 */
export async function checkTable(
  instance: Instance,
  table: Table,
  schema: Schema,
  file: string,
): Promise<{ report: ValidationReport; annotate: Record<string, unknown> }> {
  const issues: Issue[] = [];
  const annotate: Record<string, unknown> = {};
  const db = instance.db;
  const names = schema.features.map((m) => m.name);
  let members = schema.features;
  const present = new Set(table.columns);
  const missing = names.filter((n) => !present.has(n));
  const extra = table.columns.filter((c) => !names.includes(c));
  if (schema.flexible && extra.length) {
    // other columns that are registered features are validated too; unregistered ones are fine
    const others = await queryRows<SchemaMember>(
      db,
      sql`SELECT DISTINCT ON (name) uid, name, _dtype_str AS dtype, nullable, coerce FROM lamindb_feature
        WHERE name IN (${sql.join(
          extra.map((c) => sql`${c}`),
          sql`, `,
        )}) AND NOT is_type AND branch_id <> ${TRASH} ORDER BY name, id`,
    );
    const at = (m: SchemaMember) => table.columns.indexOf(m.name);
    members = [...members, ...others.sort((a, b) => at(a) - at(b))];
  }
  if (schema.minimal_set && missing.length) {
    issues.push({
      kind: "missing-columns",
      columns: missing.map((m) => ({ name: m, closeMatches: closeMatches(m, extra) })),
    });
  }
  if (schema.maximal_set && extra.length) {
    const all = (
      await queryRows<{ name: string }>(
        db,
        sql`SELECT name FROM lamindb_feature WHERE NOT is_type AND branch_id <> ${TRASH} LIMIT 10000`,
      )
    ).map((r) => r.name);
    issues.push({
      kind: "extra-columns",
      columns: extra.map((e) => ({
        name: e,
        // schema features that are not in the data first, then any feature
        closeMatches: [...new Set([...closeMatches(e, missing), ...closeMatches(e, all)])].slice(
          0,
          3,
        ),
      })),
    });
  }
  if (schema.ordered_set) {
    const expected = names.filter((n) => present.has(n));
    const actual = table.columns.filter((c) => names.includes(c));
    if (expected.join("\u0000") !== actual.join("\u0000")) {
      issues.push({ kind: "column-order", expected: names, actual: table.columns });
    }
  }
  const plans: ColumnPlan[] = members
    .filter((m) => present.has(m.name))
    .map((m) => ({ column: m.name, member: m }));
  for (const { column, member } of plans) {
    const values = table.values.get(column) as unknown[];
    const dtype = member.dtype ?? "";
    const coerce = schema.coerce || member.coerce;
    // nulls
    const nullRows: number[] = [];
    values.forEach((v, i) => {
      if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)))
        nullRows.push(i + 1);
    });
    if (nullRows.length && !member.nullable) {
      issues.push({
        kind: "nulls",
        column,
        count: nullRows.length,
        rows: nullRows.slice(0, MAX_LISTED),
      });
    }
    const nonNull = values.filter(
      (v) => !(v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))),
    );
    const parsed = parseDtype(dtype);
    if (parsed?.kind === "cat" || parsed?.kind === "module") {
      const isList = parsed.list;
      const tally = new Tally();
      const labels: string[] = [];
      const bad = new Tally();
      for (const v of nonNull) {
        const items = isList && Array.isArray(v) ? v : [v];
        for (const item of items) {
          const s =
            typeof item === "string"
              ? item
              : coerce && typeof item === "number"
                ? String(item)
                : null;
          if (s === null || s === "") bad.add(item);
          else {
            tally.add(s);
            labels.push(s);
          }
        }
      }
      if (bad.total) issues.push(dtypeIssue(column, dtype, bad));
      const distinct = [...new Set(labels)];
      const missingValues: ValueCount[] = [];
      let missingCount = 0;
      if (parsed.kind === "module") {
        const r = await lookupModuleValues(instance, parsed.spec, distinct);
        for (const m of r.missing) {
          const count = tally.counts.get(`s:${m.value}`)?.count ?? 0;
          missingCount += count;
          missingValues.push({
            value: m.value,
            count,
            closeMatches: m.closeMatches,
            ...(m.synonymOf ? { synonymOf: m.synonymOf } : {}),
          });
        }
      } else {
        const registry = CAT_REGISTRIES[parsed.label];
        const target = { registry, type: parsed.type, field: parsed.field ?? registry.field };
        for (const [value, close] of await lookupLabels(db, target, distinct)) {
          const count = tally.counts.get(`s:${value}`)?.count ?? 0;
          missingCount += count;
          missingValues.push({ value, count, closeMatches: close });
        }
      }
      // a valid save links the distinct values (labels or module records) with the feature;
      // values LaminDB keeps no link of for artifacts (collections, transforms) are checked only
      const linkable = parsed.kind === "module" || VALUE_LINKS.artifact[parsed.label] !== undefined;
      if (distinct.length && !missingValues.length && linkable) annotate[column] = distinct;
      if (missingValues.length) {
        issues.push({
          kind: "not-in-registry",
          column,
          dtype,
          count: missingCount,
          distinct: missingValues.length,
          values: missingValues.slice(0, MAX_LISTED),
        });
      }
      continue;
    }
    if (parsed?.kind !== "simple") {
      issues.push({ kind: "unsupported-dtype", column, dtype });
      continue;
    }
    const bad = new Tally();
    const checked: unknown[] = [];
    for (const raw of nonNull) {
      let ok = true;
      const one = (x: unknown): unknown => {
        let v = table.text && typeof x === "string" ? parseText(parsed.simple, x) : x;
        if (coerce) v = coerceValue(parsed.simple, v);
        try {
          return checkSimple(column, parsed.simple, v).json;
        } catch (error) {
          if (!(error instanceof LaminError)) throw error;
          ok = false;
          return undefined;
        }
      };
      let out: unknown;
      if (parsed.list) {
        const arr = Array.isArray(raw)
          ? raw
          : table.text && typeof raw === "string"
            ? safeList(raw)
            : null;
        if (arr === null) ok = false;
        else out = arr.map(one);
      } else out = one(raw);
      if (ok) checked.push(out);
      else bad.add(raw);
    }
    if (bad.total) {
      issues.push(dtypeIssue(column, dtype, bad));
    } else if (table.single && checked.length === 1) {
      annotate[column] = checked[0];
    }
  }
  return {
    report: {
      valid: issues.length === 0,
      schema: { uid: schema.uid, name: schema.name },
      file,
      format: table.format,
      n_rows: table.nRows,
      columns: table.columns,
      issues,
    },
    annotate,
  };
}

function safeList(text: string): unknown[] | null {
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? v : null;
  } catch {
    return text.split(",").map((s) => s.trim());
  }
}

const show = (v: unknown) => (typeof v === "string" ? `'${v}'` : JSON.stringify(v));

/** One line per issue, every offending column with its listed values. */
export function describeIssues(report: ValidationReport): string[] {
  const lines: string[] = [];
  const dym = (c: string[]) => (c.length ? ` (did you mean ${c.map(show).join(", ")}?)` : "");
  for (const issue of report.issues) {
    switch (issue.kind) {
      case "missing-columns":
        lines.push(
          `missing column${issue.columns.length > 1 ? "s" : ""}: ${issue.columns
            .map((c) => `${show(c.name)}${dym(c.closeMatches)}`)
            .join(", ")}`,
        );
        break;
      case "extra-columns":
        lines.push(
          `column${issue.columns.length > 1 ? "s" : ""} not in the schema (maximal set): ${issue.columns
            .map((c) => `${show(c.name)}${dym(c.closeMatches)}`)
            .join(", ")}`,
        );
        break;
      case "column-order":
        lines.push(
          `columns out of order: expected ${issue.expected.join(", ")}; got ${issue.actual.join(", ")}`,
        );
        break;
      case "nulls":
        lines.push(
          `column ${show(issue.column)}: ${issue.count} missing value${issue.count > 1 ? "s" : ""} but the feature is not nullable (rows ${issue.rows.join(", ")}${issue.count > issue.rows.length ? ", ..." : ""})`,
        );
        break;
      case "dtype":
        lines.push(
          `column ${show(issue.column)}: ${issue.count} value${issue.count > 1 ? "s are" : " is"} not ${issue.dtype}: ${listValues(issue.values, issue.distinct)}`,
        );
        break;
      case "not-in-registry":
        lines.push(
          `column ${show(issue.column)}: ${issue.distinct} value${issue.distinct > 1 ? "s are" : " is"} not in ${issue.dtype}: ${listValues(issue.values, issue.distinct)}`,
        );
        break;
      case "unsupported-dtype":
        lines.push(`column ${show(issue.column)}: dtype ${issue.dtype} cannot be validated yet`);
        break;
      case "slot-file":
        lines.push(
          issue.problem === "missing"
            ? `slot ${show(issue.slot)}: no table file ${TABLE_SUFFIXES.map((s) => `${issue.slot}${s}`).join(", ")} in the folder`
            : issue.problem === "several"
              ? `slot ${show(issue.slot)}: ${issue.files.length} table files (${issue.files.join(", ")}); keep one`
              : `slot ${show(issue.slot)}: ${issue.message ?? `${issue.files[0]} cannot be read`}`,
        );
        break;
    }
  }
  // a composite's issues, grouped by slot
  for (const [slot, r] of Object.entries(report.slots ?? {})) {
    for (const line of describeIssues(r)) lines.push(`slot ${show(slot)} (${r.file}): ${line}`);
  }
  return lines;
}

function listValues(values: ValueCount[], distinct: number): string {
  const parts = values.map((v) => {
    const hint = v.synonymOf
      ? ` → synonym of ${show(v.synonymOf)}`
      : v.closeMatches?.length
        ? ` → did you mean ${v.closeMatches.map(show).join(", ")}?`
        : "";
    return `${show(v.value)} ×${v.count}${hint}`;
  });
  return `${parts.join("; ")}${distinct > values.length ? `; ... (${distinct - values.length} more)` : ""}`;
}

// ------------------------------------------------------------------ entry points

/** The suffixes of table files a composite's slots are found by (`obs` → `obs.csv`, ...). */
const TABLE_SUFFIXES = [".csv", ".tsv", ".parquet", ".json"];

/** What validating a path found: the report, values to annotate, the schema of each slot. */
export interface Checked {
  report: ValidationReport;
  annotate: Record<string, unknown>;
  /** `lamindb_artifactschema` rows: slot → schema uid (`columns` for a table). */
  slots: { slot: string; schema: string }[];
}

/** Validate a file (or, for a composite schema, a folder): every issue, none thrown. */
async function checkPath(instance: Instance, path: string, schema: Schema): Promise<Checked> {
  if (schema.itype !== COMPOSITE) {
    const table = await readTable(path);
    const { report, annotate } = await checkTable(instance, table, schema, path);
    // LaminDB's DataFrame curator links the feature set of the columns under slot `columns`
    return { report, annotate, slots: [{ slot: "columns", schema: schema.uid }] };
  }
  return checkTables(instance, await readSlotTables(path, schema), schema, path);
}

/** A composite's slot-file issue: why a slot has no table. */
export type SlotFileIssue = Extract<Issue, { kind: "slot-file" }>;

/** A slot of a composite as read from its folder: its table file, or why there is none. */
export type SlotTable = { file: string; table: Table } | SlotFileIssue;

/** The stem of a file a composite's slot can be (`var.T.csv` → `var.T`), else undefined. */
export function slotStem(name: string): string | undefined {
  const suffix = TABLE_SUFFIXES.find((s) => name.toLowerCase().endsWith(s));
  return suffix ? name.slice(0, -suffix.length) : undefined;
}

/**
 * Find and read the table file of each slot of a composite at the top of the folder `path`
 * (where the data is: in process, or on an HTTP client). A slot without exactly one readable
 * file gets its slot-file issue instead; a path that is no folder is refused.
 */
export async function readSlotTables(
  path: string,
  schema: Pick<Schema, "uid" | "name" | "components">,
): Promise<Record<string, SlotTable>> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ValidationError(
      `schema '${schema.name ?? schema.uid}' is composite: it validates a folder, ${path} is ${info ? "a file" : "missing"}`,
      `give a folder with one table file per slot (${schema.components.map((c) => `${c.slot}.csv`).join(", ")})`,
    );
  }
  const byStem = new Map<string, string[]>();
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const stem = slotStem(entry.name);
    if (!entry.isFile() || stem === undefined) continue;
    byStem.set(stem, [...(byStem.get(stem) ?? []), entry.name]);
  }
  const out: Record<string, SlotTable> = {};
  for (const { slot } of schema.components) {
    const files = (byStem.get(slot) ?? []).sort();
    if (files.length !== 1) {
      out[slot] = { kind: "slot-file", slot, problem: files.length ? "several" : "missing", files };
      continue;
    }
    const file = files[0] as string;
    try {
      out[slot] = { file, table: await readTable(join(path, file)) };
    } catch (error) {
      if (!(error instanceof LaminError)) throw error;
      out[slot] = { kind: "slot-file", slot, problem: "unreadable", files, message: error.message };
    }
  }
  return out;
}

/**
 * Check the slot tables of a folder (`readSlotTables`, maybe read by a client) against a
 * composite schema: one report per slot with a table, slot-file issues for the others (a slot
 * that is not given at all is missing). `path` is the folder as its reader names it.
 */
export async function checkTables(
  instance: Instance,
  slotTables: Record<string, SlotTable>,
  schema: Schema,
  path: string,
): Promise<Checked> {
  const known = new Set(schema.components.map((c) => c.slot));
  const unknown = Object.keys(slotTables).filter((s) => !known.has(s));
  if (unknown.length) {
    throw new ValidationError(
      `schema '${schema.name ?? schema.uid}' has no slot ${unknown.map((s) => `'${s}'`).join(", ")}`,
      `its slots: ${[...known].join(", ")}`,
    );
  }
  const issues: Issue[] = [];
  const slots: Record<string, ValidationReport> = {};
  const annotate: Record<string, unknown> = {};
  for (const c of schema.components) {
    const got = slotTables[c.slot] ?? {
      kind: "slot-file",
      slot: c.slot,
      problem: "missing",
      files: [],
    };
    if ("kind" in got) {
      // the issue names its own slot: one read from a request must name this one
      issues.push({ ...got, slot: c.slot });
      continue;
    }
    const component = await instance.schemas.get(c.uid);
    const checked = await checkTable(instance, got.table, component, got.file);
    slots[c.slot] = checked.report;
    mergeAnnotations(annotate, checked.annotate);
  }
  const report: ValidationReport = {
    valid: issues.length === 0 && Object.values(slots).every((r) => r.valid),
    schema: { uid: schema.uid, name: schema.name },
    file: path,
    format: "folder",
    n_rows: Object.values(slots).reduce((n, r) => n + r.n_rows, 0),
    columns: [],
    issues,
    slots,
  };
  return {
    report,
    annotate,
    slots: schema.components.map((c) => ({ slot: c.slot, schema: c.uid })),
  };
}

/** Values of several slots for one artifact: label lists are joined, other values kept once. */
function mergeAnnotations(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [feature, value] of Object.entries(from)) {
    const had = into[feature];
    if (had === undefined) into[feature] = value;
    else if (Array.isArray(had) && Array.isArray(value)) {
      into[feature] = [...new Set([...had, ...value])];
    }
  }
}

/**
 * Validate a file against a schema (name or uid): the full report, never thrown. A composite
 * schema validates a folder of one table file per slot.
 */
export async function validateFile(
  instance: Instance,
  path: string,
  schemaRef: string,
): Promise<ValidationReport> {
  const schema = await instance.schemas.get(schemaRef);
  return (await checkPath(instance, path, schema)).report;
}

/**
 * Save a file (a folder, for a composite schema) as an artifact after it validated against the
 * schema: nothing is saved when it does not (SchemaValidationError with the report). A saved
 * artifact gets `schema_id`, one `lamindb_artifactschema` row per slot (`columns` for a table,
 * as LaminDB's DataFrame curator; a composite's slots), and the feature values LaminDB
 * annotates: categorical columns' distinct labels (or module records), or a JSON record's
 * values.
 */
export async function saveWithSchema(
  instance: Instance,
  path: string,
  opts: SaveOptions & { schema: string },
  save: (path: string, opts: SaveOptions) => Promise<SaveResult>,
): Promise<SaveResult> {
  const { schema: schemaRef, ...rest } = opts;
  const schema = await instance.schemas.get(schemaRef);
  const { report, annotate, slots } = await checkPath(instance, path, schema);
  if (!report.valid) throw new SchemaValidationError(report);
  const result = await save(path, rest);
  const ids = new Map<string, number>();
  for (const s of slots) ids.set(s.schema, await instance.schemas.rowId(s.schema));
  const schemaId = await instance.schemas.rowId(schema.uid);
  const userId = instance.user.id;
  const runId = currentRun(instance)?.id ?? null;
  await instance.db.transaction(async (tx) => {
    const [row] = await queryRows<{ id: number }>(
      tx as unknown as Db,
      sql`UPDATE lamindb_artifact SET schema_id = ${schemaId} WHERE uid = ${result.artifact.uid}
        RETURNING id`,
    );
    const artifactId = Number((row as { id: number }).id);
    // validated again (maybe with another schema): its slots are those of this schema
    await tx.execute(sql`DELETE FROM lamindb_artifactschema WHERE artifact_id = ${artifactId}`);
    for (const s of slots) {
      await tx.execute(
        sql`INSERT INTO lamindb_artifactschema (artifact_id, schema_id, slot, created_by_id, run_id)
          VALUES (${artifactId}, ${ids.get(s.schema)}, ${s.slot}, ${userId}, ${runId})`,
      );
    }
  });
  if (Object.keys(annotate).length) {
    await instance.annotations.add("artifact", { uid: result.artifact.uid }, annotate);
  }
  return result;
}
