/**
 * Features and labels of artifacts and runs (LaminDB's `obj.features.add_values()`,
 * `obj.ulabels.add()`, `obj.projects.add()`), and querying by them.
 *
 * - Simple dtypes (`int`, `float`, `num`, `str`, `bool`, `date`, `datetime`, `dict`, `path`,
 *   `url`, `list[...]` of those): the value is checked against the dtype, then stored once per
 *   (feature, LaminDB hash) in `lamindb_jsonvalue` and linked through `lamindb_artifactjsonvalue`
 *   (`lamindb_runjsonvalue`).
 * - Categorical dtypes (`cat[ULabel]`, `cat[ULabel[<type>]]`, `cat[Record]`, `cat[Project]`, as
 *   lists too): the labels must exist; link rows in `lamindb_artifactulabel` (`...record`,
 *   `...project`) carry the feature.
 * - Module registries (`cat[bionty.CellType]`, `cat[bionty.CellType.ontology_id]`, as lists
 *   too; artifacts only): values must be in the registry field; link rows in the module's
 *   `bionty_artifact<entity>` table (described by the module, see modules/types.ts) carry the
 *   feature.
 * - Labels without a feature: link rows with `feature_id` NULL.
 *
 * Every change runs in one transaction after all inputs were checked: bad input changes nothing.
 * Filters become EXISTS subqueries on the link tables (see `Annotations.conditions`).
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { hashJsonValue, hashString, pythonFloatRepr } from "../hash.js";
import type { Instance } from "../instance.js";
import {
  type ArtifactLinkTarget,
  artifactLinkTarget,
  enabledArtifactLinks,
  type LinkTable,
  parseModuleField,
  resolveModuleValues,
} from "../modules/index.js";
import { TRASH } from "./branch.js";
import { type Filter, likeEscape, OPERATORS, type Operator } from "./query.js";
import type { Transaction } from "./records/base.js";

export type Owner = "artifact" | "run";

/** Feature values by feature name, e.g. `{ temperature: 37.5, cell_type: "T cell" }`. */
export type FeatureValues = Record<string, unknown>;

/** Labels without a feature, by uid or name. */
export interface LabelRefs {
  ulabels?: string[];
  projects?: string[];
  records?: string[];
}

/** What an artifact or run is annotated with. */
export interface Annotation {
  /** Feature name → value (a list when there are several values). */
  features: Record<string, unknown>;
  /** Names of labels linked without a feature. */
  ulabels: string[];
  projects: string[];
  records: string[];
  /**
   * Artifacts validated with a schema (`lamin save --schema`): the schema of each slot
   * (`columns` for a table; a composite's slots), from `lamindb_artifactschema`. Only present
   * when there are some.
   */
  schemas?: { slot: string | null; uid: string; name: string | null }[];
}

export interface AddOptions {
  /** Values are text as typed on a command line: parse them per dtype ("37.5", "true", ...). */
  fromText?: boolean;
  /** Features whose values are removed first, in the same transaction. */
  removeFirst?: string[];
}

// ------------------------------------------------------------------ tables per owner

type LabelKind = "ulabel" | "record" | "project";

interface OwnerTables {
  table: string;
  jsonLink: string;
  /** Link tables to labels: [table, label column]. */
  label: Record<LabelKind, string>;
}

const OWNERS: Record<Owner, OwnerTables> = {
  artifact: {
    table: "lamindb_artifact",
    jsonLink: "lamindb_artifactjsonvalue",
    label: {
      ulabel: "lamindb_artifactulabel",
      record: "lamindb_artifactrecord",
      project: "lamindb_artifactproject",
    },
  },
  run: {
    table: "lamindb_run",
    jsonLink: "lamindb_runjsonvalue",
    label: {
      ulabel: "lamindb_runulabel",
      record: "lamindb_runrecord",
      project: "lamindb_runproject",
    },
  },
};

const LABEL_TABLE: Record<LabelKind, string> = {
  ulabel: "lamindb_ulabel",
  record: "lamindb_record",
  project: "lamindb_project",
};
const REGISTRY_OF: Record<string, LabelKind> = {
  ULabel: "ulabel",
  Record: "record",
  Project: "project",
};

/** Up to this many matching values (or labels) are resolved to ids before the query. */
const MAX_RESOLVED = 1000;
/** How long a list may reuse a feature it looked up. */
const FEATURE_TTL_MS = 10_000;

const raw = (identifier: string) => sql.raw(`"${identifier}"`);
const ownerCol = (owner: Owner) => raw(`${owner}_id`);
const labelCol = (kind: LabelKind) => raw(`${kind}_id`);

// ------------------------------------------------------------------ dtypes

const SIMPLE = ["int", "float", "num", "str", "bool", "date", "datetime", "dict", "path", "url"];

export type ParsedDtype =
  | { kind: "simple"; list: boolean; simple: string }
  | { kind: "cat"; list: boolean; label: LabelKind; type: string | null }
  /** A module registry (field): `spec` is `bionty.CellType` or `bionty.CellType.ontology_id`. */
  | { kind: "module"; list: boolean; spec: string };

const MODULE_CAT = /^cat\[([a-z][a-z0-9_]*\.[A-Z][A-Za-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)\]$/;

/** What annotation needs of a dtype string; undefined when annotating with it is not supported. */
export function parseDtype(dtype: string | null): ParsedDtype | undefined {
  if (dtype === null) return undefined;
  let d = dtype === "cat" ? "cat[ULabel]" : dtype;
  let list = false;
  const l = /^list\[(.+)\]$/.exec(d);
  if (l) {
    list = true;
    d = (l[1] as string) === "cat" ? "cat[ULabel]" : (l[1] as string);
  }
  if (SIMPLE.includes(d)) return { kind: "simple", list, simple: d };
  if (d === "datetime64[ns, UTC]") return { kind: "simple", list, simple: "datetime" };
  const c = /^cat\[(ULabel|Record|Project)(?:\[([^\]]+)\])?(?:\.name)?\]$/.exec(d);
  if (c) {
    const label = REGISTRY_OF[c[1] as string] as LabelKind;
    return { kind: "cat", list, label, type: c[2] ?? null };
  }
  const m = MODULE_CAT.exec(d);
  if (m) return { kind: "module", list, spec: m[1] as string };
  return undefined;
}

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the string ${JSON.stringify(v.slice(0, 60))}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Parse a command-line text as a value of a simple dtype (strings stay strings). */
export function fromText(simple: string, text: string): unknown {
  switch (simple) {
    case "int":
    case "float":
    case "num":
      return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
    case "bool":
      return text === "true" || text === "True"
        ? true
        : text === "false" || text === "False"
          ? false
          : text;
    case "dict":
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/**
 * One value checked against a simple dtype and put in its stored form: the JSON to store and
 * the LaminDB hash (hash_string of Python's str(value); dicts: json.dumps(sort_keys=True)).
 */
export function checkSimple(
  feature: string,
  simple: string,
  value: unknown,
): { json: unknown; repr: string | null } {
  const bad = (what: string, hint: string) =>
    new ValidationError(
      `feature '${feature}' has dtype ${simple}: ${describeType(value)} is not ${what}`,
      hint,
    );
  switch (simple) {
    case "int":
      if (typeof value === "number" && Number.isSafeInteger(value))
        return { json: value, repr: String(value) };
      throw bad("an integer", `give a whole number, e.g. ${feature}=37`);
    case "float":
      if (typeof value === "number" && Number.isFinite(value))
        return { json: value, repr: pythonFloatRepr(value) };
      throw bad("a number", `give a number, e.g. ${feature}=37.5`);
    case "num":
      if (typeof value === "number" && Number.isFinite(value)) return { json: value, repr: null };
      throw bad("a number", `give a number, e.g. ${feature}=37.5`);
    case "bool":
      if (typeof value === "boolean") return { json: value, repr: value ? "True" : "False" };
      throw bad("true or false", `give ${feature}=true or ${feature}=false`);
    case "date": {
      const s = value instanceof Date ? value.toISOString().slice(0, 10) : value;
      if (typeof s === "string" && ISO_DATE.test(s) && !Number.isNaN(Date.parse(s)))
        return { json: s, repr: s };
      throw bad("a date", `give an ISO date, e.g. ${feature}=2026-01-31`);
    }
    case "datetime": {
      const d =
        value instanceof Date
          ? value
          : typeof value === "string" && ISO_DATETIME.test(value)
            ? new Date(value.includes("T") ? value : value.replace(" ", "T"))
            : undefined;
      if (d && !Number.isNaN(d.getTime())) {
        const s = d.toISOString(); // one form (UTC), so that stored values compare as text
        return { json: s, repr: s };
      }
      throw bad("a date and time", `give ISO 8601, e.g. ${feature}=2026-01-31T12:00:00Z`);
    }
    case "dict":
      if (isPlainObject(value)) return { json: value, repr: null };
      throw bad("a dict", `give a JSON object, e.g. ${feature}='{"a": 1}'`);
    default: // str, path, url
      if (typeof value === "string") return { json: value, repr: value };
      throw bad("a string", `give text, e.g. ${feature}=abc`);
  }
}

/** LaminDB's JsonValue hash of a checked value (floats print like Python: 37.0, not 37). */
function jsonHash(simple: string, list: boolean, json: unknown, repr: string | null): string {
  if (!list && repr !== null) return hashString(repr);
  if (list && simple === "float") {
    return hashString(`[${(json as number[]).map(pythonFloatRepr).join(", ")}]`);
  }
  return hashJsonValue(json);
}

// ------------------------------------------------------------------ suggestions

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(
        up + 1,
        (prev[j - 1] as number) + 1,
        diag + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/** Up to `n` of `candidates` close to `word` (case-insensitive; edit distance or containment). */
export function closeMatches(word: string, candidates: Iterable<string>, n = 3): string[] {
  const w = word.toLowerCase();
  const scored: [number, string][] = [];
  for (const c of new Set(candidates)) {
    const l = c.toLowerCase();
    const d = distance(w, l);
    const limit = Math.max(2, Math.floor(Math.max(w.length, l.length) / 3));
    if (d <= limit) scored.push([d, c]);
    else if (w.length >= 3 && (l.includes(w) || w.includes(l))) scored.push([limit + 1, c]);
  }
  return scored
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
    .slice(0, n)
    .map(([, c]) => c);
}

const didYouMean = (matches: string[]) =>
  matches.length ? `did you mean ${matches.map((m) => `'${m}'`).join(", ")}?` : "";

// ------------------------------------------------------------------ the registry

interface FeatureRow {
  id: number;
  name: string;
  dtype: string | null;
}

type Runner = Db | Transaction;
const rows = <T>(db: Runner, query: SQL) => queryRows<T>(db as Db, query);

interface Planned {
  jsonValues: { featureId: number; json: unknown; hash: string }[];
  labels: { kind: LabelKind; id: number; featureId: number | null }[];
  /** Module records (`bionty_artifact<entity>` rows). */
  modules: { link: LinkTable; id: number; featureId: number }[];
}

const CAT_DTYPES = "cat[ULabel], cat[Record], cat[Project] or cat[bionty.<Registry>(.field)]";

/** Module features annotate artifacts only (LaminDB has no run links to bionty records). */
function artifactsOnly(owner: Owner, feature: FeatureRow): void {
  if (owner !== "artifact") {
    throw new ValidationError(
      `feature '${feature.name}' has dtype ${feature.dtype}: only artifacts can be annotated with it`,
      "annotate an artifact, or use a feature of another dtype for runs",
    );
  }
}

export class Annotations {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  /** The features of one artifact or run: `ln.annotations.of("run", uid).add({...})`. */
  of(owner: Owner, ref: string | { key: string } | { uid: string }): FeatureManager {
    return new FeatureManager(this, owner, ref);
  }

  /** The id of an artifact (uid, 16-character stem or `{ key }`) or a run (uid). */
  async ownerId(owner: Owner, ref: string | { key: string } | { uid: string }): Promise<number> {
    if (owner === "artifact") {
      return (await this.instance.artifacts.row(ref as Parameters<Instance["artifacts"]["row"]>[0]))
        .id;
    }
    const uid = typeof ref === "string" ? ref : "uid" in ref ? ref.uid : "";
    if (!/^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/.test(uid)) {
      throw new ValidationError(`'${uid}' is not a run uid`, "a run uid has 16 base62 characters");
    }
    const [hit] = await rows<{ id: number }>(
      this.db,
      sql`SELECT id FROM lamindb_run WHERE uid = ${uid} LIMIT 1`,
    );
    if (!hit) throw new NotFoundError(`no run with uid ${uid}`, "list runs (GET /runs)");
    return Number(hit.id);
  }

  /**
   * Features of recent queries (name → row), for FEATURE_TTL_MS: a feature's id and dtype never
   * change here (a create with another dtype is refused), so a list skips the look-up round trip.
   * Writes always read in their transaction.
   */
  private readonly recent = new Map<string, { row: FeatureRow; at: number }>();

  private async featuresForQuery(names: string[]): Promise<Map<string, FeatureRow>> {
    const now = Date.now();
    const out = new Map<string, FeatureRow>();
    for (const n of names) {
      const hit = this.recent.get(n);
      if (hit && now - hit.at < FEATURE_TTL_MS) out.set(n, hit.row);
    }
    if (out.size === names.length) return out;
    const found = await this.features(this.db, names);
    if (this.recent.size > 1000) this.recent.clear();
    for (const [n, row] of found) this.recent.set(n, { row, at: now });
    return found;
  }

  /** Features by name (live, not types); an unknown name is an error with close matches. */
  private async features(db: Runner, names: string[]): Promise<Map<string, FeatureRow>> {
    const out = new Map<string, FeatureRow>();
    if (names.length === 0) return out;
    const found = await rows<FeatureRow>(
      db,
      sql`SELECT DISTINCT ON (name) id, name, _dtype_str AS dtype FROM lamindb_feature
        WHERE name IN (${sql.join(
          names.map((n) => sql`${n}`),
          sql`, `,
        )}) AND NOT is_type AND branch_id <> ${TRASH} ORDER BY name, id`,
    );
    for (const f of found) out.set(f.name, f);
    const unknown = names.filter((n) => !out.has(n));
    if (unknown.length > 0) {
      const all = await rows<{ name: string }>(
        db,
        sql`SELECT name FROM lamindb_feature WHERE NOT is_type AND branch_id <> ${TRASH} LIMIT 10000`,
      );
      const names = all.map((r) => r.name);
      const first = unknown[0] as string;
      throw new ValidationError(
        `unknown feature${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `'${n}'`).join(", ")}${
          didYouMean(closeMatches(first, names))
            ? `; ${didYouMean(closeMatches(first, names))}`
            : ""
        }`,
        `define it first: lamin feature create ${first} --dtype <dtype> (list them: lamin feature list)`,
      );
    }
    return out;
  }

  /** Labels of one registry by uid or name (restricted to a type); missing ones are an error. */
  private async labels(
    db: Runner,
    kind: LabelKind,
    refs: string[],
    what: string,
    type: string | null = null,
  ): Promise<number[]> {
    if (refs.length === 0) return [];
    const table = raw(LABEL_TABLE[kind]);
    const typeFilter =
      type === null
        ? sql``
        : sql` AND type_id IN (SELECT id FROM ${table} WHERE (uid = ${type} OR name = ${type}) AND is_type)`;
    const list = sql.join(
      refs.map((r) => sql`${r}`),
      sql`, `,
    );
    const found = await rows<{ id: number; uid: string; name: string }>(
      db,
      sql`SELECT id, uid, name FROM ${table}
        WHERE (name IN (${list}) OR uid IN (${list})) AND branch_id <> ${TRASH}${typeFilter}
        ORDER BY id`,
    );
    const ids: number[] = [];
    const missing: string[] = [];
    for (const ref of refs) {
      const hit = found.find((f) => f.uid === ref) ?? found.find((f) => f.name === ref);
      if (hit) ids.push(hit.id);
      else missing.push(ref);
    }
    if (missing.length > 0) {
      const pool = await rows<{ name: string }>(
        db,
        sql`SELECT name FROM ${table} WHERE name IS NOT NULL AND branch_id <> ${TRASH}${typeFilter} LIMIT 10000`,
      );
      const names = pool.map((p) => p.name);
      const suggestions = missing
        .map((m) => [m, closeMatches(m, names)] as const)
        .filter(([, c]) => c.length > 0)
        .map(([m, c]) => `'${m}' → ${c.map((x) => `'${x}'`).join(", ")}`);
      const registry = kind === "ulabel" ? "ulabel" : kind;
      throw new ValidationError(
        `${what}: ${missing.length} value${missing.length > 1 ? "s are" : " is"} not ${
          type === null ? `a ${registry}` : `a ${registry} of type '${type}'`
        }: ${missing.map((m) => `'${m}'`).join(", ")}${
          suggestions.length ? ` (close matches: ${suggestions.join("; ")})` : ""
        }`,
        `create ${missing.length > 1 ? "them" : "it"} first: lamin ${registry} create NAME${
          type === null ? "" : ` --type ${type}`
        }`,
      );
    }
    return ids;
  }

  /** Check every value and resolve every label before anything is written. */
  private async plan(
    db: Runner,
    owner: Owner,
    values: FeatureValues,
    labels: LabelRefs,
    opts: AddOptions,
  ): Promise<Planned> {
    if (!isPlainObject(values)) {
      throw new ValidationError("feature values must be an object of name → value");
    }
    const planned: Planned = { jsonValues: [], labels: [], modules: [] };
    const features = await this.features(db, Object.keys(values));
    for (const [name, given] of Object.entries(values)) {
      const f = features.get(name) as FeatureRow;
      const dtype = parseDtype(f.dtype);
      if (!dtype) {
        throw new ValidationError(
          `feature '${name}' has dtype '${f.dtype}', which cannot be annotated with yet`,
          `use a feature of a simple dtype or ${CAT_DTYPES}`,
        );
      }
      if (given === undefined || given === null) {
        throw new ValidationError(
          `no value for feature '${name}'`,
          "give a value (remove values with remove())",
        );
      }
      if (dtype.kind === "cat" || dtype.kind === "module") {
        const refs = toList(given, opts.fromText === true);
        if (refs.length === 0 || refs.some((r) => typeof r !== "string" || r === "")) {
          throw new ValidationError(
            `feature '${name}' has dtype ${f.dtype}: give label names, got ${describeType(given)}`,
            `e.g. ${name}=T-cell`,
          );
        }
        if (dtype.kind === "module") {
          artifactsOnly(owner, f);
          await this.planModule(db, f, dtype.spec, refs as string[], planned);
          continue;
        }
        const ids = await this.labels(
          db,
          dtype.label,
          refs as string[],
          `feature '${name}'`,
          dtype.type,
        );
        for (const id of ids) planned.labels.push({ kind: dtype.label, id, featureId: f.id });
        continue;
      }
      let value: unknown = given;
      if (opts.fromText && typeof given === "string") {
        value = dtype.list
          ? given.trim().startsWith("[")
            ? safeJson(given)
            : given.split(",").map((x) => fromText(dtype.simple, x.trim()))
          : fromText(dtype.simple, given);
      }
      if (dtype.list) {
        if (!Array.isArray(value)) {
          throw new ValidationError(
            `feature '${name}' has dtype ${f.dtype}: ${describeType(value)} is not a list`,
            `give a list, e.g. ${name}=a,b`,
          );
        }
        const json = value.map((v) => checkSimple(name, dtype.simple, v).json);
        planned.jsonValues.push({
          featureId: f.id,
          json,
          hash: jsonHash(dtype.simple, true, json, null),
        });
      } else {
        const { json, repr } = checkSimple(name, dtype.simple, value);
        planned.jsonValues.push({
          featureId: f.id,
          json,
          hash: jsonHash(dtype.simple, false, json, repr),
        });
      }
    }
    for (const [key, kind] of [
      ["ulabels", "ulabel"],
      ["projects", "project"],
      ["records", "record"],
    ] as const) {
      const refs = labels[key] ?? [];
      if (!Array.isArray(refs) || refs.some((r) => typeof r !== "string")) {
        throw new ValidationError(`${key} must be a list of uids or names`);
      }
      const ids = await this.labels(db, kind, refs, key);
      for (const id of ids) planned.labels.push({ kind, id, featureId: null });
    }
    return planned;
  }

  /** Module records by the dtype's field; values not in the registry are one error. */
  private async planModule(
    db: Runner,
    f: FeatureRow,
    spec: string,
    refs: string[],
    planned: Planned,
  ): Promise<void> {
    const { link, ids, missing } = await resolveModuleValues({ db: db as Db }, spec, refs);
    if (missing.length > 0) {
      const parts = missing.map((m) => {
        const hint = m.synonymOf
          ? ` (synonym of '${m.synonymOf}')`
          : m.closeMatches.length
            ? ` (did you mean ${m.closeMatches.map((c) => `'${c}'`).join(", ")}?)`
            : "";
        return `'${m.value}'${hint}`;
      });
      throw new ValidationError(
        `feature '${f.name}': ${missing.length} value${missing.length > 1 ? "s are" : " is"} not ${
          link.registry
        }.${link.field}: ${parts.join(", ")}`,
        `use the standard values (lamin bionty search ${link.registry.split(".")[1]} TEXT); nothing was written`,
      );
    }
    for (const ref of new Set(refs)) {
      planned.modules.push({
        link: link.link,
        id: ids.get(ref) as number,
        featureId: f.id,
      });
    }
  }

  /**
   * Annotate an artifact or run with feature values and labels (added to what it has). Checked
   * in full first; written in one transaction.
   */
  async add(
    owner: Owner,
    ref: string | { key: string } | { uid: string },
    values: FeatureValues = {},
    labels: LabelRefs = {},
    opts: AddOptions = {},
  ): Promise<Annotation> {
    const id = await this.ownerId(owner, ref);
    await this.db.transaction(async (tx) => {
      const planned = await this.plan(tx, owner, values, labels, opts);
      if (opts.removeFirst?.length) {
        const found = await this.features(tx, opts.removeFirst);
        await this.unlink(tx, owner, id, [...found.values()]);
      }
      await this.write(tx, owner, id, planned);
    });
    return this.read(owner, id);
  }

  /** Replace the values of the named features (others stay). */
  async set(
    owner: Owner,
    ref: string | { key: string } | { uid: string },
    values: FeatureValues,
    opts: AddOptions = {},
  ): Promise<Annotation> {
    const id = await this.ownerId(owner, ref);
    await this.db.transaction(async (tx) => {
      const planned = await this.plan(tx, owner, values, {}, opts);
      const features = await this.features(tx, Object.keys(values));
      await this.unlink(tx, owner, id, [...features.values()]);
      await this.write(tx, owner, id, planned);
    });
    return this.read(owner, id);
  }

  /** Remove the values of the named features, and labels linked without a feature. */
  async remove(
    owner: Owner,
    ref: string | { key: string } | { uid: string },
    features: string[] = [],
    labels: LabelRefs = {},
  ): Promise<Annotation> {
    const id = await this.ownerId(owner, ref);
    await this.db.transaction(async (tx) => {
      const found = await this.features(tx, features);
      const { table, label } = OWNERS[owner];
      const removals: SQL[] = [];
      for (const [key, kind] of [
        ["ulabels", "ulabel"],
        ["projects", "project"],
        ["records", "record"],
      ] as const) {
        const ids = await this.labels(tx, kind, labels[key] ?? [], key);
        if (ids.length === 0) continue;
        removals.push(
          sql`DELETE FROM ${raw(label[kind])} WHERE ${ownerCol(owner)} = ${id} AND feature_id IS NULL AND ${labelCol(kind)} IN (${sql.join(
            ids.map((i) => sql`${i}`),
            sql`, `,
          )})`,
        );
      }
      void table;
      await this.unlink(tx, owner, id, [...found.values()]);
      for (const q of removals) await tx.execute(q);
    });
    return this.read(owner, id);
  }

  /** What an artifact or run is annotated with. */
  async get(owner: Owner, ref: string | { key: string } | { uid: string }): Promise<Annotation> {
    return this.read(owner, await this.ownerId(owner, ref));
  }

  private async unlink(tx: Transaction, owner: Owner, id: number, features: FeatureRow[]) {
    if (features.length === 0) return;
    const featureIds = features.map((f) => f.id);
    const { jsonLink, label } = OWNERS[owner];
    const list = sql.join(
      featureIds.map((f) => sql`${f}`),
      sql`, `,
    );
    await tx.execute(
      sql`DELETE FROM ${raw(jsonLink)} l USING lamindb_jsonvalue jv
        WHERE l.jsonvalue_id = jv.id AND l.${ownerCol(owner)} = ${id} AND jv.feature_id IN (${list})`,
    );
    for (const table of Object.values(label)) {
      await tx.execute(
        sql`DELETE FROM ${raw(table)} WHERE ${ownerCol(owner)} = ${id} AND feature_id IN (${list})`,
      );
    }
    if (owner !== "artifact") return;
    for (const f of features) {
      const dtype = parseDtype(f.dtype);
      if (dtype?.kind !== "module") continue;
      const { link } = await artifactLinkTarget({ db: tx as Db }, dtype.spec);
      await tx.execute(
        sql`DELETE FROM ${raw(link.table)} WHERE artifact_id = ${id} AND feature_id = ${f.id}`,
      );
    }
  }

  private async write(tx: Transaction, owner: Owner, id: number, planned: Planned) {
    const { jsonLink, label } = OWNERS[owner];
    const userId = this.instance.user.id;
    for (const v of planned.jsonValues) {
      // get-or-create by (feature, hash): concurrent writers settle on one row
      const [jv] = await rows<{ id: number }>(
        tx,
        sql`WITH ins AS (
          INSERT INTO lamindb_jsonvalue (feature_id, value, hash, created_by_id)
          VALUES (${v.featureId}, ${JSON.stringify(v.json)}::jsonb, ${v.hash}, ${userId})
          ON CONFLICT (feature_id, hash) DO NOTHING RETURNING id)
        SELECT id FROM ins UNION ALL
        SELECT id FROM lamindb_jsonvalue WHERE feature_id = ${v.featureId} AND hash = ${v.hash}
        LIMIT 1`,
      );
      // a concurrent writer committed the same value after this statement's snapshot: look again
      const [found] = jv
        ? [jv]
        : await rows<{ id: number }>(
            tx,
            sql`SELECT id FROM lamindb_jsonvalue WHERE feature_id = ${v.featureId} AND hash = ${v.hash}`,
          );
      if (!found) {
        throw new ConflictError("a feature value vanished while it was written", "try again");
      }
      await tx.execute(
        sql`INSERT INTO ${raw(jsonLink)} (${ownerCol(owner)}, jsonvalue_id, created_by_id)
          VALUES (${id}, ${found.id}, ${userId}) ON CONFLICT DO NOTHING`,
      );
    }
    for (const l of planned.labels) {
      await tx.execute(
        sql`INSERT INTO ${raw(label[l.kind])} (${ownerCol(owner)}, ${labelCol(l.kind)}, feature_id, created_by_id)
          VALUES (${id}, ${l.id}, ${l.featureId}, ${userId}) ON CONFLICT DO NOTHING`,
      );
    }
    for (const m of planned.modules) {
      await tx.execute(
        sql`INSERT INTO ${raw(m.link.table)} (artifact_id, ${raw(m.link.entityColumn)}, feature_id, created_by_id)
          VALUES (${id}, ${m.id}, ${m.featureId}, ${userId}) ON CONFLICT DO NOTHING`,
      );
    }
  }

  /** Feature → values of module records linked to an artifact, in the field of each dtype. */
  private async readModules(id: number): Promise<{ feature: string; value: unknown }[]> {
    const links = await enabledArtifactLinks(this.db);
    if (links.length === 0) return [];
    // the whole record (to_jsonb): each feature reads the field its dtype names
    const linked = (t: ArtifactLinkTarget) =>
      sql`SELECT f.name AS feature, f._dtype_str AS dtype, to_jsonb(x) AS rec, x.id AS ord
        FROM ${raw(t.link.table)} l JOIN ${raw(t.table)} x ON x.id = l.${raw(t.link.entityColumn)}
        JOIN lamindb_feature f ON f.id = l.feature_id WHERE l.artifact_id = ${id}`;
    const found = await rows<{ feature: string; dtype: string | null; rec: unknown }>(
      this.db,
      sql`${sql.join(links.map(linked), sql` UNION ALL `)} ORDER BY 1, 4`,
    );
    return found.map((r) => {
      const dtype = parseDtype(r.dtype);
      let column: string | undefined;
      if (dtype?.kind === "module") {
        const { registry, field } = parseModuleField(dtype.spec);
        column = registry.fields[field]?.name;
      }
      const rec = (typeof r.rec === "string" ? JSON.parse(r.rec) : r.rec) as Record<
        string,
        unknown
      >;
      return { feature: r.feature, value: rec[column ?? "name"] ?? rec.name ?? rec.symbol };
    });
  }

  private async read(owner: Owner, id: number): Promise<Annotation> {
    const { jsonLink, label } = OWNERS[owner];
    const o = ownerCol(owner);
    const found = await rows<{ feature: string | null; value: unknown; kind: string }>(
      this.db,
      sql`SELECT f.name AS feature, jv.value, 'json' AS kind, jv.id AS ord
          FROM ${raw(jsonLink)} l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
          JOIN lamindb_feature f ON f.id = jv.feature_id WHERE l.${o} = ${id}
        UNION ALL SELECT f.name, to_jsonb(x.name), 'ulabel', x.id FROM ${raw(label.ulabel)} l
          JOIN lamindb_ulabel x ON x.id = l.ulabel_id LEFT JOIN lamindb_feature f ON f.id = l.feature_id
          WHERE l.${o} = ${id}
        UNION ALL SELECT f.name, to_jsonb(coalesce(x.name, x.uid)), 'record', x.id FROM ${raw(label.record)} l
          JOIN lamindb_record x ON x.id = l.record_id LEFT JOIN lamindb_feature f ON f.id = l.feature_id
          WHERE l.${o} = ${id}
        UNION ALL SELECT f.name, to_jsonb(x.name), 'project', x.id FROM ${raw(label.project)} l
          JOIN lamindb_project x ON x.id = l.project_id LEFT JOIN lamindb_feature f ON f.id = l.feature_id
          WHERE l.${o} = ${id}
        ORDER BY 1, 4`,
    );
    const out: Annotation = { features: {}, ulabels: [], projects: [], records: [] };
    const many = new Map<string, unknown[]>();
    for (const r of found) {
      if (r.feature === null) {
        const key = `${r.kind}s` as "ulabels" | "projects" | "records";
        out[key].push(r.value as string);
        continue;
      }
      const values = many.get(r.feature) ?? [];
      values.push(r.value);
      many.set(r.feature, values);
    }
    if (owner === "artifact") {
      for (const r of await this.readModules(id)) {
        const values = many.get(r.feature) ?? [];
        values.push(r.value);
        many.set(r.feature, values);
      }
      const schemas = await rows<{ slot: string | null; uid: string; name: string | null }>(
        this.db,
        sql`SELECT l.slot, s.uid, s.name FROM lamindb_artifactschema l
          JOIN lamindb_schema s ON s.id = l.schema_id WHERE l.artifact_id = ${id} ORDER BY l.id`,
      );
      if (schemas.length) out.schemas = schemas;
    }
    for (const [name, values] of many)
      out.features[name] = values.length === 1 ? values[0] : values;
    return out;
  }

  // ---------------------------------------------------------------- querying

  /**
   * Conditions on `owner` rows for feature lookups (`temperature__gt: 30`, `cell_type: "T cell"`)
   * and label lookups of the main filter (`ulabels__name`, `projects__uid`, ...): EXISTS
   * subqueries on the link tables, served by their (owner, value) and (value, owner) indexes.
   */
  async conditions(owner: Owner, features: Filter = {}, labelLookups: Filter = {}): Promise<SQL[]> {
    const out: SQL[] = [];
    const parsed = Object.entries(features)
      .filter(([, v]) => v !== undefined)
      .map(([lookup, value]) => ({ lookup, value, ...splitLookup(lookup) }));
    const found = await this.featuresForQuery([...new Set(parsed.map((p) => p.name))]);
    for (const p of parsed) {
      out.push(await this.featureCondition(owner, found.get(p.name) as FeatureRow, p));
    }
    for (const [lookup, value] of Object.entries(labelLookups)) {
      if (value === undefined) continue;
      out.push(labelCondition(owner, lookup, value));
    }
    return out;
  }

  private async featureCondition(
    owner: Owner,
    f: FeatureRow,
    p: { lookup: string; value: unknown; op: Operator },
  ): Promise<SQL> {
    const { table, jsonLink } = OWNERS[owner];
    const ownerId = sql`${raw(table)}."id"`;
    const o = ownerCol(owner);
    const dtype = parseDtype(f.dtype);
    if (!dtype) {
      throw new ValidationError(
        `cannot filter by feature '${f.name}' of dtype '${f.dtype}' yet`,
        `filter by features of simple dtypes or ${CAT_DTYPES}`,
      );
    }
    if (dtype.kind === "module") artifactsOnly(owner, f);
    const cat =
      dtype.kind === "module"
        ? moduleTarget(await artifactLinkTarget(this.instance, dtype.spec))
        : dtype.kind === "cat"
          ? labelTarget(owner, dtype.label)
          : undefined;
    const { op, value, lookup } = p;
    const values = (): unknown[] =>
      Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [value];
    /**
     * Values are stored once per feature and value, so the matching JsonValues are few: resolve
     * their ids first and the planner sees constants with statistics (the link table's index on
     * (jsonvalue_id, owner) serves them). Many matches fall back to a join.
     */
    const json = async (cond: SQL, resolve = true) => {
      if (!resolve) {
        // equality on the (feature_id, hash) index: as good inline, and no round trip
        return sql`EXISTS (SELECT 1 FROM ${raw(jsonLink)} l WHERE l.${o} = ${ownerId} AND l.jsonvalue_id IN (
          SELECT jv.id FROM lamindb_jsonvalue jv WHERE jv.feature_id = ${f.id} AND ${cond}))`;
      }
      const ids = await rows<{ id: string | number }>(
        this.db,
        sql`SELECT jv.id FROM lamindb_jsonvalue jv WHERE jv.feature_id = ${f.id} AND ${cond}
          LIMIT ${MAX_RESOLVED + 1}`,
      );
      if (ids.length === 0) return sql`false`;
      if (ids.length <= MAX_RESOLVED) {
        return sql`EXISTS (SELECT 1 FROM ${raw(jsonLink)} l WHERE l.${o} = ${ownerId} AND l.jsonvalue_id IN (${sql.join(
          ids.map((i) => sql`${Number(i.id)}`),
          sql`, `,
        )}))`;
      }
      return sql`EXISTS (SELECT 1 FROM ${raw(jsonLink)} l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
        WHERE l.${o} = ${ownerId} AND jv.feature_id = ${f.id} AND ${cond})`;
    };
    const anyValue = (positive: boolean) => {
      const e = cat
        ? sql`EXISTS (SELECT 1 FROM ${raw(cat.link)} l WHERE l.${o} = ${ownerId} AND l.feature_id = ${f.id})`
        : sql`EXISTS (SELECT 1 FROM ${raw(jsonLink)} l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
              WHERE l.${o} = ${ownerId} AND jv.feature_id = ${f.id})`;
      return positive ? e : sql`NOT ${e}`;
    };
    if (op === "isnull") {
      const isNull = value === true || value === "true" || value === "1";
      if (!isNull && !(value === false || value === "false" || value === "0")) {
        throw new ValidationError(`filter '${lookup}' needs true or false`);
      }
      return anyValue(!isNull);
    }
    if (cat) {
      const col = raw(cat.column);
      let match: SQL;
      if (op === "exact" || op === "in") {
        const refs = (op === "in" ? values() : [value]).map(String);
        const list = sql.join(
          refs.map((r) => sql`${r}`),
          sql`, `,
        );
        const any = sql.join(
          cat.keys.map((k) => sql`${raw(k)} IN (${list})`),
          sql` OR `,
        );
        match = sql`l.${col} IN (SELECT id FROM ${raw(cat.table)}
          WHERE (${any}) AND branch_id <> ${TRASH})`;
      } else if (["contains", "icontains", "startswith", "endswith", "iexact"].includes(op)) {
        match = sql`l.${col} IN (SELECT id FROM ${raw(cat.table)} WHERE ${textMatch(raw(cat.text), op, String(value))})`;
      } else {
        throw new ValidationError(
          `operator '${op}' does not apply to categorical feature '${f.name}'`,
          "use =, __in, __contains, __startswith or __isnull",
        );
      }
      return sql`EXISTS (SELECT 1 FROM ${raw(cat.link)} l WHERE l.${o} = ${ownerId} AND l.feature_id = ${f.id} AND ${match})`;
    }
    if (dtype.kind !== "simple") throw new Error(`no condition for dtype ${f.dtype}`);
    const { simple } = dtype;
    if (dtype.list) {
      if (op !== "exact" && op !== "in") {
        throw new ValidationError(
          `operator '${op}' does not apply to list feature '${f.name}'`,
          `${f.name}=v matches lists that contain v; __in: any of several`,
        );
      }
      const items = (op === "in" ? values() : [value]).map(
        (v) => checkSimple(f.name, simple, typeof v === "string" ? fromText(simple, v) : v).json,
      );
      return json(
        sql`(${sql.join(
          items.map((v) => sql`jv.value @> ${JSON.stringify([v])}::jsonb`),
          sql` OR `,
        )})`,
      );
    }
    const typed = (v: unknown) =>
      checkSimple(f.name, simple, typeof v === "string" ? fromText(simple, v) : v);
    if (op === "exact" || op === "in") {
      // the (feature_id, hash) index: every Python repr the value may have been stored with
      const hashes = new Set<string>();
      for (const v of op === "in" ? values() : [value]) {
        const c = typed(v);
        if (typeof c.json === "number") {
          hashes.add(hashString(String(c.json)));
          hashes.add(hashString(pythonFloatRepr(c.json)));
        } else hashes.add(jsonHash(simple, false, c.json, c.repr));
      }
      return json(
        sql`jv.hash IN (${sql.join(
          [...hashes].map((h) => sql`${h}`),
          sql`, `,
        )})`,
        false,
      );
    }
    const ordered = ["gt", "gte", "lt", "lte"].includes(op);
    const cmp = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[op as "gt"];
    if (ordered && ["int", "float", "num"].includes(simple)) {
      const n = typed(value).json as number;
      // jsonb orders numbers numerically; the values of a numeric feature are numbers
      return json(sql`jv.value ${sql.raw(cmp)} ${JSON.stringify(n)}::jsonb`);
    }
    if (ordered && ["date", "datetime", "str", "path", "url"].includes(simple)) {
      const s = typed(value).json as string;
      return json(
        sql`jsonb_typeof(jv.value) = 'string' AND (jv.value #>> '{}') COLLATE "C" ${sql.raw(cmp)} ${s}`,
      );
    }
    if (["contains", "icontains", "startswith", "endswith", "iexact"].includes(op)) {
      if (!["str", "path", "url"].includes(simple)) {
        throw new ValidationError(
          `operator '${op}' does not apply to feature '${f.name}' of dtype ${simple}`,
          "text operators apply to str features",
        );
      }
      return json(
        sql`jsonb_typeof(jv.value) = 'string' AND ${textMatch(sql`(jv.value #>> '{}')`, op, String(value))}`,
      );
    }
    throw new ValidationError(
      `operator '${op}' does not apply to feature '${f.name}' of dtype ${simple}`,
      simple === "bool" ? `use ${f.name}=true or ${f.name}=false` : "use =, __in or __isnull",
    );
  }
}

/** Where the values of a categorical feature are: link table, its value column, the registry. */
interface CatTarget {
  link: string;
  column: string;
  table: string;
  /** Columns an exact value may match. */
  keys: string[];
  /** The column text operators (`__contains`, ...) apply to. */
  text: string;
}

/** Labels match by name or uid. */
function labelTarget(owner: Owner, kind: LabelKind): CatTarget {
  const link = OWNERS[owner].label[kind];
  return {
    link,
    column: `${kind}_id`,
    table: LABEL_TABLE[kind],
    keys: ["name", "uid"],
    text: "name",
  };
}

/** Module records match by name or by the dtype's field (e.g. `ontology_id`). */
function moduleTarget(t: ArtifactLinkTarget): CatTarget {
  return {
    link: t.link.table,
    column: t.link.entityColumn,
    table: t.table,
    keys: [...new Set([t.nameColumn, t.fieldColumn])],
    text: t.fieldColumn,
  };
}

function toList(value: unknown, text: boolean): unknown[] {
  if (Array.isArray(value)) return value;
  if (text && typeof value === "string" && value.includes(",")) {
    return value.split(",").map((v) => v.trim());
  }
  return [value];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function textMatch(column: SQL, op: Operator, value: string): SQL {
  if (op === "iexact") return sql`lower(${column}) = lower(${value})`;
  const s = likeEscape(value);
  const pattern = op === "startswith" ? `${s}%` : op === "endswith" ? `%${s}` : `%${s}%`;
  return op === "icontains" ? sql`${column} ILIKE ${pattern}` : sql`${column} LIKE ${pattern}`;
}

/** `temperature__gt` → name and operator (default exact). */
export function splitLookup(lookup: string): { name: string; op: Operator } {
  const parts = lookup.split("__");
  const last = parts.at(-1) as Operator;
  if (parts.length > 1 && (OPERATORS as readonly string[]).includes(last)) {
    return { name: parts.slice(0, -1).join("__"), op: last };
  }
  return { name: lookup, op: "exact" };
}

/** Lookups of the main filter that traverse to labels: `ulabels__name`, `projects__uid`, ... */
export const LABEL_LOOKUP = /^(ulabels|projects|records)__(name|uid)(__[a-z]+)?$/;

/** Split a filter into plain field lookups and label lookups. */
export function splitLabelLookups(filter: Filter): { fields: Filter; labels: Filter } {
  const fields: Filter = {};
  const labels: Filter = {};
  for (const [k, v] of Object.entries(filter)) (LABEL_LOOKUP.test(k) ? labels : fields)[k] = v;
  return { fields, labels };
}

function labelCondition(owner: Owner, lookup: string, value: unknown): SQL {
  const m = LABEL_LOOKUP.exec(lookup) as RegExpExecArray;
  const kind = ({ ulabels: "ulabel", projects: "project", records: "record" } as const)[
    m[1] as "ulabels"
  ];
  const field = sql.raw(m[2] as string);
  const op = (m[3]?.slice(2) ?? "exact") as Operator;
  const { table, label } = OWNERS[owner];
  let match: SQL;
  if (op === "exact") match = sql`${field} = ${String(value)}`;
  else if (op === "in") {
    const items = Array.isArray(value) ? value : String(value).split(",");
    match = sql`${field} IN (${sql.join(
      items.map((i) => sql`${String(i)}`),
      sql`, `,
    )})`;
  } else if (["contains", "icontains", "startswith", "endswith", "iexact"].includes(op)) {
    match = textMatch(sql`${field}`, op, String(value));
  } else {
    throw new ValidationError(
      `operator '${op}' does not apply to '${lookup}'`,
      "use =, __in, __contains, __icontains, __startswith, __endswith or __iexact",
    );
  }
  return sql`EXISTS (SELECT 1 FROM ${raw(label[kind])} l WHERE l.${ownerCol(owner)} = ${raw(table)}."id"
    AND l.${labelCol(kind)} IN (SELECT id FROM ${raw(LABEL_TABLE[kind])} WHERE ${match} AND branch_id <> ${TRASH}))`;
}

/**
 * The features of one artifact or run, as LaminDB's `obj.features`: `add`, `set`, `get`,
 * `remove`; labels without a feature through `addLabels` / `removeLabels`.
 */
export class FeatureManager {
  constructor(
    private readonly annotations: Annotations,
    private readonly owner: Owner,
    private readonly ref: string | { key: string } | { uid: string },
  ) {}

  /** Add values (`{ temperature: 37.5, cell_type: "T cell" }`); a feature may hold several. */
  add(values: FeatureValues, opts?: AddOptions): Promise<Annotation> {
    return this.annotations.add(this.owner, this.ref, values, {}, opts);
  }

  /** Replace the values of the named features. */
  set(values: FeatureValues, opts?: AddOptions): Promise<Annotation> {
    return this.annotations.set(this.owner, this.ref, values, opts);
  }

  /** Feature name → value (a list when there are several), and the labels without a feature. */
  get(): Promise<Annotation> {
    return this.annotations.get(this.owner, this.ref);
  }

  /** Remove every value of the named features. */
  remove(...features: string[]): Promise<Annotation> {
    return this.annotations.remove(this.owner, this.ref, features.flat());
  }

  /** Link labels without a feature: `{ ulabels: ["batch 1"], projects: ["Lung atlas"] }`. */
  addLabels(labels: LabelRefs): Promise<Annotation> {
    return this.annotations.add(this.owner, this.ref, {}, labels);
  }

  removeLabels(labels: LabelRefs): Promise<Annotation> {
    return this.annotations.remove(this.owner, this.ref, [], labels);
  }
}
