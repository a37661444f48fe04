/**
 * Features and labels of artifacts, runs and records (LaminDB's `obj.features.add_values()`,
 * `obj.ulabels.add()`, `obj.projects.add()`), and querying by them.
 *
 * - Simple dtypes (`int`, `float`, `num`, `str`, `bool`, `date`, `datetime`, `dict`, `path`,
 *   `url`, `list[...]` of those): the value is checked against the dtype, then stored. Artifacts
 *   and runs: once per (feature, LaminDB hash) in `lamindb_jsonvalue`, linked through
 *   `lamindb_artifactjsonvalue` (`lamindb_runjsonvalue`). Records: in `lamindb_recordjson`, one
 *   value per (record, feature) as LaminDB's unique constraint says (a list is one JSON list).
 * - Categorical dtypes (`cat[ULabel]`, `cat[ULabel[<type>]]`, `cat[Record]`, `cat[Project]`,
 *   `cat[Artifact]`, `cat[Run.uid]`, `cat[User]`, `cat[Collection]`, `cat[Transform]`,
 *   `cat[Reference]`, as lists too): the values must exist; link rows carry the feature, in the
 *   table LaminDB uses for that owner and registry (categories.ts).
 * - Module registries (`cat[bionty.CellType]`, `cat[bionty.CellType.ontology_id]`, as lists
 *   too; artifacts and records): values must be in the registry field; link rows in the module's
 *   `bionty_artifact<entity>` (`bionty_record<entity>`) table carry the feature.
 * - Labels without a feature (artifacts and runs): link rows with `feature_id` NULL.
 * - A record of a sheet (a type with a schema, sheets.ts) takes only the schema's features, and
 *   every required one; the schema's index feature is the record's name.
 *
 * Every change runs in one transaction after all inputs were checked: bad input changes nothing.
 * Filters become EXISTS subqueries on the link tables (see `Annotations.conditions`).
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.js";
import { assertWritableRow } from "../../db/space-policies.js";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.js";
import { hashJsonValue, hashString, pythonFloatRepr } from "../../hash.js";
import type { Instance } from "../../instance.js";
import {
  enabledModuleLinks,
  instanceModules,
  type LinkTable,
  type ModuleLinkTarget,
  type ModuleOwner,
  moduleLinkTarget,
  parseModuleField,
  resolveModuleValues,
} from "../../modules/index.js";
import { TRASH } from "../common/branch.js";
import { currentRun } from "../lineage/run-context.js";
import { type Filter, likeEscape, OPERATORS, type Operator } from "../model/query.js";
import type { Transaction } from "../records/base.js";
import {
  aNoun,
  CAT_REGISTRIES,
  type CatKind,
  type CatTarget,
  catNamesOf,
  catRegistry,
  findValues,
  OWNER_TABLE,
  type Owner,
  VALUE_LINKS,
  type ValueLink,
  valuePool,
} from "./categories.js";
import { type Sheet, sheetName, sheetOfRecord } from "./sheets.js";

export type { Owner } from "./categories.js";

/** Feature values by feature name, e.g. `{ temperature: 37.5, cell_type: "T cell" }`. */
export type FeatureValues = Record<string, unknown>;

/** Labels without a feature, by uid or name (artifacts and runs). */
export interface LabelRefs {
  ulabels?: string[];
  projects?: string[];
  records?: string[];
}

/** What an artifact, run or record is annotated with. */
export interface Annotation {
  /** Feature name → value (a list when there are several values). */
  features: Record<string, unknown>;
  /** Names of labels linked without a feature (artifacts and runs). */
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

/** How an artifact, run or record is addressed: uid (an artifact also by `{ key }`). */
export type OwnerRef = string | { key: string } | { uid: string };

// ------------------------------------------------------------------ tables per owner

/** Labels linked without a feature (artifacts and runs). */
type LabelKind = "ulabel" | "record" | "project";
const LABEL_KINDS = [
  ["ulabels", "ulabel"],
  ["projects", "project"],
  ["records", "record"],
] as const;

/** Where artifacts and runs link their JSON values (records keep theirs in lamindb_recordjson). */
const JSON_LINK: Record<Exclude<Owner, "record">, string> = {
  artifact: "lamindb_artifactjsonvalue",
  run: "lamindb_runjsonvalue",
};

/** Up to this many matching values (or labels) are resolved to ids before the query. */
const MAX_RESOLVED = 1000;
/** How long a list may reuse a feature it looked up. */
const FEATURE_TTL_MS = 10_000;

const raw = (identifier: string) => sql.raw(`"${identifier}"`);
const ownerCol = (owner: Owner) => raw(`${owner}_id`);

/** The link table of an owner's labels of one kind (with or without a feature). */
const labelLink = (owner: Owner, kind: LabelKind) => VALUE_LINKS[owner][kind] as ValueLink;

// ------------------------------------------------------------------ dtypes

const SIMPLE = ["int", "float", "num", "str", "bool", "date", "datetime", "dict", "path", "url"];

export type ParsedDtype =
  | { kind: "simple"; list: boolean; simple: string }
  /**
   * A categorical registry (categories.ts): `type` restricts values to records of a type
   * (`cat[Record[Samples]]`), `field` is the field a dtype names when not the registry's own
   * (`cat[Run.uid]` names the default, `cat[User.name]` another).
   */
  | { kind: "cat"; list: boolean; label: CatKind; type: string | null; field?: string }
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
  const c = /^cat\[([A-Z][A-Za-z]*)(?:\[([^\]]+)\])?(?:\.([a-z_]+))?\]$/.exec(d);
  const registry = c ? catRegistry(c[1] as string) : undefined;
  if (c && registry) {
    const [type, field] = [c[2] ?? null, c[3]];
    if (type !== null && !registry.typed) return undefined;
    if (field !== undefined && !registry.fields.includes(field)) return undefined;
    return {
      kind: "cat",
      list,
      label: registry.kind,
      type,
      ...(field !== undefined && field !== registry.field ? { field } : {}),
    };
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
  /** Artifacts and runs: values stored once per (feature, LaminDB hash), then linked. */
  jsonValues: { featureId: number; json: unknown; hash: string }[];
  /** Records: one value of their own per feature (`lamindb_recordjson`). */
  recordJson: { featureId: number; name: string; json: unknown }[];
  /** Values (and labels without a feature) in a categorical registry's link table. */
  links: { link: ValueLink; id: number; featureId: number | null }[];
  /** Module records (`bionty_artifact<entity>`, `bionty_record<entity>` rows). */
  modules: { link: LinkTable; id: number; featureId: number }[];
  /** A sheet's index feature: the record's new name. */
  name?: string;
}

const CAT_DTYPES =
  "cat[<Registry>] (ULabel, Record, Project, Artifact, Run, User, Collection, Transform, Reference) or cat[bionty.<Registry>(.field)]";

/** Module records annotate artifacts and records (LaminDB has no run links to bionty records). */
function moduleOwner(owner: Owner, feature: FeatureRow): ModuleOwner {
  if (owner === "run") {
    throw new ValidationError(
      `feature '${feature.name}' has dtype ${feature.dtype}: runs cannot be annotated with it, only artifacts and records`,
      "annotate an artifact or a record, or use a feature of another dtype for runs",
    );
  }
  return owner;
}

/** Where an owner keeps values of a categorical registry; LaminDB keeps none there: an error. */
function valueLink(owner: Owner, feature: FeatureRow, kind: CatKind): ValueLink {
  const link = VALUE_LINKS[owner][kind];
  if (!link) {
    throw new ValidationError(
      `feature '${feature.name}' has dtype ${feature.dtype}: LaminDB keeps no ${CAT_REGISTRIES[kind].name} values of ${owner}s`,
      `${owner}s take ${catNamesOf(owner).join(", ")}; records take every categorical registry`,
    );
  }
  return link;
}

/** The registry, type and field of a categorical dtype. */
function catTarget(dtype: { label: CatKind; type: string | null; field?: string }): CatTarget {
  const registry = CAT_REGISTRIES[dtype.label];
  return { registry, type: dtype.type, field: dtype.field ?? registry.field };
}

/** uids of runs (16; 20 before LaminDB 1.6) and records. */
const OWNER_UID: Record<Exclude<Owner, "artifact">, { regex: RegExp; hint: string }> = {
  run: { regex: /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/, hint: "a run uid has 16 base62 characters" },
  record: { regex: /^[0-9A-Za-z]{16}$/, hint: "a record uid has 16 base62 characters" },
};

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);
const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(", ");

/** A sheet's rules on the features given for one of its records (see sheets.ts). */
function checkSheet(sheet: Sheet, given: FeatureRow[], hasName: boolean): void {
  // a schema without features constrains nothing (LaminDB's flexible schema)
  if (sheet.members.length === 0) return;
  const members = new Set(sheet.members.map((m) => m.id));
  const schema = `'${sheet.schema.name ?? sheet.schema.uid}'`;
  const outside = given.filter((f) => !members.has(f.id)).map((f) => f.name);
  if (outside.length) {
    throw new ValidationError(
      `${plural(outside.length, "feature", "features")} ${quoted(outside)} ${plural(outside.length, "is", "are")} not in the schema ${schema} of sheet ${sheetName(sheet)}`,
      `a record of ${sheetName(sheet)} takes ${quoted(sheet.members.map((m) => m.name))}`,
    );
  }
  if (!sheet.schema.minimalSet || given.length === 0) return;
  const ids = new Set(given.map((f) => f.id));
  const missing = sheet.members
    .filter((m) => !m.optional && !ids.has(m.id) && !(m === sheet.index && hasName))
    .map((m) => m.name);
  if (missing.length) {
    throw new ValidationError(
      `a record of sheet ${sheetName(sheet)} needs every required feature of its schema ${schema}: ${quoted(missing)} ${plural(missing.length, "is", "are")} missing`,
      `give ${plural(missing.length, "it", "them")} too (LaminDB validates the values of a sheet's record with its schema); nothing was written`,
    );
  }
}

/** The value of a sheet's index feature: the record's name. */
function indexName(sheet: Sheet, feature: FeatureRow, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > 150) {
    throw new ValidationError(
      `feature '${feature.name}' is the index of sheet ${sheetName(sheet)}: its value is the record's name, a text of 1 to 150 characters, not ${describeType(value)}`,
      `e.g. ${feature.name}=S-001`,
    );
  }
  return value;
}

export class Annotations {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  /** The features of one artifact, run or record: `ln.annotations.of("run", uid).add({...})`. */
  of(owner: Owner, ref: OwnerRef): FeatureManager {
    return new FeatureManager(this, owner, ref);
  }

  /** The id of an artifact (uid, 16-character stem or `{ key }`), a run or a record (uid). */
  async ownerId(owner: Owner, ref: OwnerRef): Promise<number> {
    if (owner === "artifact") {
      return (await this.instance.artifacts.row(ref as Parameters<Instance["artifacts"]["row"]>[0]))
        .id;
    }
    const uid = typeof ref === "string" ? ref : "uid" in ref ? ref.uid : "";
    const { regex, hint } = OWNER_UID[owner];
    if (!regex.test(uid)) {
      throw new ValidationError(`'${uid.slice(0, 100)}' is not ${aNoun(owner)} uid`, hint);
    }
    const [hit] = await rows<{ id: number }>(
      this.db,
      sql`SELECT id FROM ${raw(OWNER_TABLE[owner])} WHERE uid = ${uid} LIMIT 1`,
    );
    if (!hit) {
      throw new NotFoundError(`no ${owner} with uid ${uid}`, `list ${owner}s (GET /${owner}s)`);
    }
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
    for (const f of found) out.set(f.name, { ...f, id: Number(f.id) });
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

  /**
   * The ids of the values `refs` name in a categorical registry (uid or the dtype's field,
   * restricted to a type), in order; values that name nothing are one error with close matches.
   */
  private async resolve(
    db: Runner,
    target: CatTarget,
    refs: string[],
    what: string,
  ): Promise<number[]> {
    if (refs.length === 0) return [];
    const found = await findValues(db, target, refs);
    const missing = [...new Set(refs.filter((r) => !found.has(r)))];
    if (missing.length > 0) {
      const names = await valuePool(db, target);
      const suggestions = missing
        .map((m) => [m, closeMatches(m, names)] as const)
        .filter(([, c]) => c.length > 0)
        .map(([m, c]) => `'${m}' → ${c.map((x) => `'${x}'`).join(", ")}`);
      const { registry, type, field } = target;
      const it = plural(missing.length, "it", "them");
      throw new ValidationError(
        `${what}: ${missing.length} value${missing.length > 1 ? "s are" : " is"} not ${
          type === null ? aNoun(registry.kind) : `${aNoun(registry.kind)} of type '${type}'`
        }: ${quoted(missing)}${suggestions.length ? ` (close matches: ${suggestions.join("; ")})` : ""}`,
        registry.typed
          ? `create ${it} first: ${registry.make}${type === null ? "" : ` --type ${type}`}`
          : `give ${aNoun(registry.kind)}'s ${field === "uid" ? "uid" : `uid or ${field}`} (${registry.make})`,
      );
    }
    return refs.map((r) => found.get(r) as number);
  }

  /** Check every value and resolve every label before anything is written. */
  private async plan(
    db: Runner,
    owner: Owner,
    ownerId: number,
    values: FeatureValues,
    labels: LabelRefs,
    opts: AddOptions,
  ): Promise<Planned> {
    if (!isPlainObject(values)) {
      throw new ValidationError("feature values must be an object of name → value");
    }
    const planned: Planned = { jsonValues: [], recordJson: [], links: [], modules: [] };
    const features = await this.features(db, Object.keys(values));
    const sheet = owner === "record" ? await sheetOfRecord(db, ownerId) : undefined;
    if (sheet) {
      const [named] = await rows<{ named: boolean }>(
        db,
        sql`SELECT name IS NOT NULL AS named FROM lamindb_record WHERE id = ${ownerId}`,
      );
      checkSheet(sheet, [...features.values()], named?.named === true);
    }
    for (const [name, given] of Object.entries(values)) {
      const f = features.get(name) as FeatureRow;
      if (sheet?.index?.id === f.id) {
        planned.name = indexName(sheet, f, given);
        continue;
      }
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
          await this.planModule(
            db,
            moduleOwner(owner, f),
            f,
            dtype.spec,
            refs as string[],
            planned,
          );
          continue;
        }
        const link = valueLink(owner, f, dtype.label);
        const ids = await this.resolve(db, catTarget(dtype), refs as string[], `feature '${name}'`);
        for (const id of ids) planned.links.push({ link, id, featureId: f.id });
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
      if (dtype.list && !Array.isArray(value)) {
        throw new ValidationError(
          `feature '${name}' has dtype ${f.dtype}: ${describeType(value)} is not a list`,
          `give a list, e.g. ${name}=a,b`,
        );
      }
      const checked = dtype.list
        ? {
            json: (value as unknown[]).map((v) => checkSimple(name, dtype.simple, v).json),
            repr: null,
          }
        : checkSimple(name, dtype.simple, value);
      if (owner === "record") {
        planned.recordJson.push({ featureId: f.id, name, json: checked.json });
      } else {
        planned.jsonValues.push({
          featureId: f.id,
          json: checked.json,
          hash: jsonHash(dtype.simple, dtype.list, checked.json, checked.repr),
        });
      }
    }
    for (const [key, kind] of LABEL_KINDS) {
      const refs = labels[key] ?? [];
      if (!Array.isArray(refs) || refs.some((r) => typeof r !== "string")) {
        throw new ValidationError(`${key} must be a list of uids or names`);
      }
      if (refs.length === 0) continue;
      if (owner === "record") {
        throw new ValidationError(
          `records have no ${key} without a feature (LaminDB keeps a record's values per feature)`,
          `give them as values of a feature of dtype cat[${CAT_REGISTRIES[kind].name}]`,
        );
      }
      const registry = CAT_REGISTRIES[kind];
      const ids = await this.resolve(
        db,
        { registry, type: null, field: registry.field },
        refs,
        key,
      );
      for (const id of ids)
        planned.links.push({ link: labelLink(owner, kind), id, featureId: null });
    }
    return planned;
  }

  /** Module records by the dtype's field; values not in the registry are one error. */
  private async planModule(
    db: Runner,
    owner: ModuleOwner,
    f: FeatureRow,
    spec: string,
    refs: string[],
    planned: Planned,
  ): Promise<void> {
    const { link, ids, missing } = await resolveModuleValues({ db: db as Db }, spec, refs, owner);
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
        `use existing values (lamin module search ${link.registry} TEXT); nothing was written`,
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
   * Annotate an artifact, run or record with feature values and labels (added to what it has).
   * Checked in full first; written in one transaction.
   */
  async add(
    owner: Owner,
    ref: OwnerRef,
    values: FeatureValues = {},
    labels: LabelRefs = {},
    opts: AddOptions = {},
  ): Promise<Annotation> {
    const id = await this.ownerId(owner, ref);
    await assertWritableRow(this.instance.database, OWNER_TABLE[owner], id);
    await this.db.transaction(async (tx) => {
      const planned = await this.plan(tx, owner, id, values, labels, opts);
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
    ref: OwnerRef,
    values: FeatureValues,
    opts: AddOptions = {},
  ): Promise<Annotation> {
    const id = await this.ownerId(owner, ref);
    await assertWritableRow(this.instance.database, OWNER_TABLE[owner], id);
    await this.db.transaction(async (tx) => {
      const planned = await this.plan(tx, owner, id, values, {}, opts);
      const features = await this.features(tx, Object.keys(values));
      await this.unlink(tx, owner, id, [...features.values()]);
      await this.write(tx, owner, id, planned);
    });
    return this.read(owner, id);
  }

  /** Remove the values of the named features, and labels linked without a feature. */
  async remove(
    owner: Owner,
    ref: OwnerRef,
    features: string[] = [],
    labels: LabelRefs = {},
  ): Promise<Annotation> {
    const id = await this.ownerId(owner, ref);
    await assertWritableRow(this.instance.database, OWNER_TABLE[owner], id);
    await this.db.transaction(async (tx) => {
      const found = await this.features(tx, features);
      const removals: SQL[] = [];
      for (const [key, kind] of LABEL_KINDS) {
        const refs = labels[key] ?? [];
        if (refs.length === 0) continue;
        if (owner === "record") {
          throw new ValidationError(
            `records have no ${key} without a feature`,
            "remove the values of its features instead",
          );
        }
        const registry = CAT_REGISTRIES[kind];
        const ids = await this.resolve(
          tx,
          { registry, type: null, field: registry.field },
          refs,
          key,
        );
        const link = labelLink(owner, kind);
        removals.push(
          sql`DELETE FROM ${raw(link.table)} WHERE ${raw(link.owner)} = ${id} AND feature_id IS NULL AND ${raw(link.value)} IN (${sql.join(
            ids.map((i) => sql`${i}`),
            sql`, `,
          )})`,
        );
      }
      await this.unlink(tx, owner, id, [...found.values()]);
      for (const q of removals) await tx.execute(q);
    });
    return this.read(owner, id);
  }

  /** What an artifact, run or record is annotated with. */
  async get(owner: Owner, ref: OwnerRef): Promise<Annotation> {
    return this.read(owner, await this.ownerId(owner, ref));
  }

  /** Remove every value of `features` from the owner: JSON values and every link table's. */
  private async unlink(tx: Transaction, owner: Owner, id: number, features: FeatureRow[]) {
    if (features.length === 0) return;
    const json =
      owner === "record"
        ? sql`DELETE FROM lamindb_recordjson WHERE record_id = ${id} AND feature_id IN (${idList(features.map((f) => f.id))})`
        : sql`DELETE FROM ${raw(JSON_LINK[owner])} l USING lamindb_jsonvalue jv
            WHERE l.jsonvalue_id = jv.id AND l.${ownerCol(owner)} = ${id}
            AND jv.feature_id IN (${idList(features.map((f) => f.id))})`;
    // the link table of each feature's registry (a table two owners share holds this owner's
    // rows under features of that registry only); a dtype we cannot read: every link table
    const byTable = new Map<ValueLink, number[]>();
    for (const f of features) {
      const dtype = parseDtype(f.dtype);
      if (dtype?.kind === "simple" || dtype?.kind === "module") continue;
      const links =
        dtype?.kind === "cat"
          ? [VALUE_LINKS[owner][dtype.label]].filter((l) => l !== undefined)
          : Object.values(VALUE_LINKS[owner]);
      for (const link of links) byTable.set(link, [...(byTable.get(link) ?? []), f.id]);
    }
    const deletes = [
      json,
      ...[...byTable].map(
        ([link, ids]) =>
          sql`DELETE FROM ${raw(link.table)} WHERE ${raw(link.owner)} = ${id} AND feature_id IN (${idList(ids)})`,
      ),
    ];
    // one statement, one round trip
    await tx.execute(
      sql`WITH ${sql.join(
        deletes.map((d, i) => sql`${sql.raw(`d${i}`)} AS (${d} RETURNING 1)`),
        sql`, `,
      )} SELECT 1`,
    );
    if (owner === "run") return;
    for (const f of features) {
      const dtype = parseDtype(f.dtype);
      if (dtype?.kind !== "module") continue;
      const { link } = await moduleLinkTarget({ db: tx as Db }, dtype.spec, owner);
      await tx.execute(
        sql`DELETE FROM ${raw(link.table)} WHERE ${ownerCol(owner)} = ${id} AND feature_id = ${f.id}`,
      );
    }
  }

  private async write(tx: Transaction, owner: Owner, id: number, planned: Planned) {
    const userId = this.instance.user.id;
    const runId = currentRun(this.instance)?.id ?? null;
    if (owner !== "record") {
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
          sql`INSERT INTO ${raw(JSON_LINK[owner])} (${ownerCol(owner)}, jsonvalue_id, created_by_id)
            VALUES (${id}, ${found.id}, ${userId}) ON CONFLICT DO NOTHING`,
        );
      }
    }
    for (const v of planned.recordJson) {
      const json = JSON.stringify(v.json);
      const [inserted] = await rows<{ id: number }>(
        tx,
        sql`INSERT INTO lamindb_recordjson (record_id, feature_id, value)
          VALUES (${id}, ${v.featureId}, ${json}::jsonb)
          ON CONFLICT (record_id, feature_id) DO NOTHING RETURNING id`,
      );
      if (inserted) continue;
      // LaminDB: one value per (record, feature); the same value again changes nothing
      const [held] = await rows<{ same: boolean; value: unknown }>(
        tx,
        sql`SELECT value = ${json}::jsonb AS same, value FROM lamindb_recordjson
          WHERE record_id = ${id} AND feature_id = ${v.featureId}`,
      );
      if (held && !held.same) {
        throw new ConflictError(
          `the record has a value for feature '${v.name}' already (${JSON.stringify(held.value).slice(0, 100)}): a record holds one value per feature`,
          `replace it: set the feature (lamin annotate UID --registry record --remove ${v.name} --features ${v.name}=...)`,
        );
      }
    }
    for (const l of planned.links) {
      const { link } = l;
      const columns = [
        raw(link.owner),
        raw(link.value),
        sql`feature_id`,
        ...(link.createdBy ? [sql`created_by_id`] : []),
        ...(link.run ? [sql`run_id`] : []),
      ];
      const values = [
        sql`${id}`,
        sql`${l.id}`,
        sql`${l.featureId}`,
        ...(link.createdBy ? [sql`${userId}`] : []),
        ...(link.run ? [sql`${runId}`] : []),
      ];
      await tx.execute(
        sql`INSERT INTO ${raw(link.table)} (${sql.join(columns, sql`, `)})
          VALUES (${sql.join(values, sql`, `)}) ON CONFLICT DO NOTHING`,
      );
    }
    for (const m of planned.modules) {
      await tx.execute(
        sql`INSERT INTO ${raw(m.link.table)} (${ownerCol(owner)}, ${raw(m.link.entityColumn)}, feature_id, created_by_id, run_id)
          VALUES (${id}, ${m.id}, ${m.featureId}, ${userId}, ${runId}) ON CONFLICT DO NOTHING`,
      );
    }
    if (planned.name !== undefined) {
      await tx.execute(
        sql`UPDATE lamindb_record SET name = ${planned.name}, updated_at = statement_timestamp()
          WHERE id = ${id}`,
      );
    }
  }

  /** Owner → feature → values of module records it is linked to, in the field of each dtype. */
  private async readModules(
    owner: ModuleOwner,
    ids: number[],
  ): Promise<{ oid: number; feature: string; value: unknown }[]> {
    const links = await enabledModuleLinks(this.db, owner);
    if (links.length === 0) return [];
    const list = idList(ids);
    // the whole record (to_jsonb): each feature reads the field its dtype names
    const linked = (t: ModuleLinkTarget) =>
      sql`SELECT l.${ownerCol(owner)} AS oid, f.name AS feature, f._dtype_str AS dtype,
          to_jsonb(x) AS rec, x.id AS ord
        FROM ${raw(t.link.table)} l JOIN ${raw(t.table)} x ON x.id = l.${raw(t.link.entityColumn)}
        JOIN lamindb_feature f ON f.id = l.feature_id WHERE l.${ownerCol(owner)} IN (${list})`;
    const scope = await instanceModules(this.db);
    const found = await rows<{ oid: number; feature: string; dtype: string | null; rec: unknown }>(
      this.db,
      sql`${sql.join(links.map(linked), sql` UNION ALL `)} ORDER BY 1, 2, 5`,
    );
    return found.map((r) => {
      const dtype = parseDtype(r.dtype);
      let column: string | undefined;
      if (dtype?.kind === "module") {
        const { registry, field } = parseModuleField(dtype.spec, scope);
        column = registry.fields[field]?.name;
      }
      const rec = jsonObject(r.rec);
      return {
        oid: Number(r.oid),
        feature: r.feature,
        value: rec[column ?? "name"] ?? rec.name ?? rec.symbol,
      };
    });
  }

  private async read(owner: Owner, id: number): Promise<Annotation> {
    const out = (await this.readMany(owner, [id])).get(id) as Annotation;
    if (owner === "record") await this.readIndex(id, out);
    return out;
  }

  /**
   * What each of `ids` is annotated with: one query for JSON values and every link table, one
   * for module records, whatever the number of owners (a sheet's rows are read at once).
   */
  async readMany(owner: Owner, ids: number[]): Promise<Map<number, Annotation>> {
    const result = new Map<number, Annotation>(
      ids.map((id) => [id, { features: {}, ulabels: [], projects: [], records: [] }]),
    );
    if (ids.length === 0) return result;
    const list = idList(ids);
    const json =
      owner === "record"
        ? sql`SELECT jv.record_id AS oid, f.name AS feature, f._dtype_str AS dtype, jv.value,
              'json' AS kind, jv.id AS ord
            FROM lamindb_recordjson jv JOIN lamindb_feature f ON f.id = jv.feature_id
            WHERE jv.record_id IN (${list})`
        : sql`SELECT l.${ownerCol(owner)} AS oid, f.name AS feature, f._dtype_str AS dtype, jv.value,
              'json' AS kind, jv.id AS ord
            FROM ${raw(JSON_LINK[owner])} l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
            JOIN lamindb_feature f ON f.id = jv.feature_id WHERE l.${ownerCol(owner)} IN (${list})`;
    // each value with the fields a dtype may show (`cat[Run.uid]`), picked below per feature
    const linked = Object.entries(VALUE_LINKS[owner]).map(([kind, link]) => {
      const registry = CAT_REGISTRIES[kind as CatKind];
      const fields = sql.raw(registry.fields.map((c) => `'${c}', x."${c}"`).join(", "));
      return sql`SELECT l.${raw(link.owner)}, f.name, f._dtype_str, jsonb_build_object(${fields}),
          ${sql.raw(`'${kind}'`)}, x.id
        FROM ${raw(link.table)} l JOIN ${raw(registry.table)} x ON x.id = l.${raw(link.value)}
        LEFT JOIN lamindb_feature f ON f.id = l.feature_id WHERE l.${raw(link.owner)} IN (${list})`;
    });
    const found = await rows<{
      oid: number;
      feature: string | null;
      dtype: string | null;
      value: unknown;
      kind: string;
    }>(this.db, sql`${sql.join([json, ...linked], sql` UNION ALL `)} ORDER BY 1, 2, 6`);
    const many = new Map<number, Map<string, unknown[]>>();
    const add = (oid: number, feature: string, value: unknown) => {
      const byFeature = many.get(oid) ?? new Map<string, unknown[]>();
      many.set(oid, byFeature);
      const values = byFeature.get(feature) ?? [];
      values.push(value);
      byFeature.set(feature, values);
    };
    for (const r of found) {
      const oid = Number(r.oid);
      if (r.kind === "json") {
        add(oid, r.feature as string, r.value);
        continue;
      }
      const registry = CAT_REGISTRIES[r.kind as CatKind];
      const rec = jsonObject(r.value);
      if (r.feature === null) {
        const key = `${r.kind}s`;
        const out = result.get(oid) as Annotation;
        if (key === "ulabels" || key === "projects" || key === "records") {
          out[key].push(String(rec[registry.field] ?? rec.uid));
        }
        continue;
      }
      const dtype = parseDtype(r.dtype);
      // a table two owners share (lamindb_artifactrun): the other owner's rows name another registry
      if (dtype?.kind === "cat" && dtype.label !== r.kind) continue;
      const field = dtype?.kind === "cat" ? dtype.field : undefined;
      add(oid, r.feature, rec[field ?? registry.field] ?? rec.uid);
    }
    if (owner !== "run") {
      for (const r of await this.readModules(owner, ids)) add(r.oid, r.feature, r.value);
    }
    if (owner === "artifact") {
      const schemas = await rows<{
        oid: number;
        slot: string | null;
        uid: string;
        name: string | null;
      }>(
        this.db,
        sql`SELECT l.artifact_id AS oid, l.slot, s.uid, s.name FROM lamindb_artifactschema l
          JOIN lamindb_schema s ON s.id = l.schema_id WHERE l.artifact_id IN (${list}) ORDER BY l.id`,
      );
      for (const { oid, ...schema } of schemas) {
        const out = result.get(Number(oid)) as Annotation;
        out.schemas = [...(out.schemas ?? []), schema];
      }
    }
    for (const [oid, byFeature] of many) {
      const out = result.get(oid) as Annotation;
      for (const [name, values] of byFeature) {
        out.features[name] = values.length === 1 ? values[0] : values;
      }
    }
    return result;
  }

  /** A sheet's record shows its name as the value of the schema's index feature (LaminDB). */
  private async readIndex(id: number, out: Annotation): Promise<void> {
    const sheet = await sheetOfRecord(this.db, id);
    if (!sheet?.index) return;
    const [row] = await rows<{ name: string | null }>(
      this.db,
      sql`SELECT name FROM lamindb_record WHERE id = ${id}`,
    );
    if (row?.name != null) out.features[sheet.index.name] = row.name;
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
    const ownerId = sql`${raw(OWNER_TABLE[owner])}."id"`;
    const o = ownerCol(owner);
    const dtype = parseDtype(f.dtype);
    if (!dtype) {
      throw new ValidationError(
        `cannot filter by feature '${f.name}' of dtype '${f.dtype}' yet`,
        `filter by features of simple dtypes or ${CAT_DTYPES}`,
      );
    }
    const cat =
      dtype.kind === "module"
        ? moduleCondition(
            owner,
            await moduleLinkTarget(this.instance, dtype.spec, moduleOwner(owner, f)),
          )
        : dtype.kind === "cat"
          ? catCondition(valueLink(owner, f, dtype.label), catTarget(dtype))
          : undefined;
    const { op, value, lookup } = p;
    const values = (): unknown[] =>
      Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [value];
    /**
     * Values of artifacts and runs are stored once per feature and value, so the matching
     * JsonValues are few: resolve their ids first and the planner sees constants with statistics
     * (the link table's index on (jsonvalue_id, owner) serves them). Many matches fall back to a
     * join. A record's values are its own rows (`lamindb_recordjson`, by feature).
     */
    const json = async (cond: SQL, resolve = true) => {
      if (owner === "record") {
        return sql`EXISTS (SELECT 1 FROM lamindb_recordjson jv WHERE jv.record_id = ${ownerId}
          AND jv.feature_id = ${f.id} AND ${cond})`;
      }
      const jsonLink = raw(JSON_LINK[owner]);
      if (!resolve) {
        // equality on the (feature_id, hash) index: as good inline, and no round trip
        return sql`EXISTS (SELECT 1 FROM ${jsonLink} l WHERE l.${o} = ${ownerId} AND l.jsonvalue_id IN (
          SELECT jv.id FROM lamindb_jsonvalue jv WHERE jv.feature_id = ${f.id} AND ${cond}))`;
      }
      const ids = await rows<{ id: string | number }>(
        this.db,
        sql`SELECT jv.id FROM lamindb_jsonvalue jv WHERE jv.feature_id = ${f.id} AND ${cond}
          LIMIT ${MAX_RESOLVED + 1}`,
      );
      if (ids.length === 0) return sql`false`;
      if (ids.length <= MAX_RESOLVED) {
        return sql`EXISTS (SELECT 1 FROM ${jsonLink} l WHERE l.${o} = ${ownerId} AND l.jsonvalue_id IN (${sql.join(
          ids.map((i) => sql`${Number(i.id)}`),
          sql`, `,
        )}))`;
      }
      return sql`EXISTS (SELECT 1 FROM ${jsonLink} l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
        WHERE l.${o} = ${ownerId} AND jv.feature_id = ${f.id} AND ${cond})`;
    };
    const anyValue = (positive: boolean) => {
      const e = cat
        ? sql`EXISTS (SELECT 1 FROM ${raw(cat.link)} l WHERE l.${raw(cat.owner)} = ${ownerId} AND l.feature_id = ${f.id})`
        : owner === "record"
          ? sql`EXISTS (SELECT 1 FROM lamindb_recordjson jv WHERE jv.record_id = ${ownerId} AND jv.feature_id = ${f.id})`
          : sql`EXISTS (SELECT 1 FROM ${raw(JSON_LINK[owner])} l JOIN lamindb_jsonvalue jv ON jv.id = l.jsonvalue_id
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
      const col = raw(cat.value);
      const live = cat.branch ? sql` AND branch_id <> ${TRASH}` : sql``;
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
        match = sql`l.${col} IN (SELECT id FROM ${raw(cat.table)} WHERE (${any})${live})`;
      } else if (["contains", "icontains", "startswith", "endswith", "iexact"].includes(op)) {
        match = sql`l.${col} IN (SELECT id FROM ${raw(cat.table)} WHERE ${textMatch(raw(cat.text), op, String(value))})`;
      } else {
        throw new ValidationError(
          `operator '${op}' does not apply to categorical feature '${f.name}'`,
          "use =, __in, __contains, __startswith or __isnull",
        );
      }
      return sql`EXISTS (SELECT 1 FROM ${raw(cat.link)} l WHERE l.${raw(cat.owner)} = ${ownerId} AND l.feature_id = ${f.id} AND ${match})`;
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
      const given = (op === "in" ? values() : [value]).map(typed);
      if (owner === "record") {
        // jsonb compares numbers by value: 37 matches 37.0
        return json(
          sql`jv.value IN (${sql.join(
            given.map((c) => sql`${JSON.stringify(c.json)}::jsonb`),
            sql`, `,
          )})`,
        );
      }
      // the (feature_id, hash) index: every Python repr the value may have been stored with
      const hashes = new Set<string>();
      for (const c of given) {
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

/**
 * Where the values of a categorical feature of an owner are: the link table with its owner and
 * value columns, the registry, the columns an exact value may match, the column text operators
 * apply to, and whether the trash is to be left out.
 */
interface CatCondition {
  link: string;
  owner: string;
  value: string;
  table: string;
  keys: string[];
  text: string;
  branch: boolean;
}

/** Values of a categorical registry match by the dtype's field or uid. */
function catCondition(link: ValueLink, target: CatTarget): CatCondition {
  return {
    link: link.table,
    owner: link.owner,
    value: link.value,
    table: target.registry.table,
    keys: [...new Set([target.field, "uid"])],
    text: target.field,
    branch: target.registry.branch,
  };
}

/** Module records match by name or by the dtype's field (e.g. `ontology_id`). */
function moduleCondition(owner: Owner, t: ModuleLinkTarget): CatCondition {
  return {
    link: t.link.table,
    owner: `${owner}_id`,
    value: t.link.entityColumn,
    table: t.table,
    keys: [...new Set([t.nameColumn, t.fieldColumn])],
    text: t.fieldColumn,
    branch: true,
  };
}

/** Row ids as a SQL list. */
const idList = (ids: readonly number[]) =>
  sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );

/** A jsonb value as the drivers return it: parsed, or text on some paths. */
function jsonObject(value: unknown): Record<string, unknown> {
  const parsed = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  return (parsed ?? {}) as Record<string, unknown>;
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
  if (owner === "record") {
    throw new ValidationError(
      `records have no labels without a feature: cannot filter by '${lookup}'`,
      "filter by the value of a categorical feature: feature.<name>=...",
    );
  }
  const link = labelLink(owner, kind);
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
  return sql`EXISTS (SELECT 1 FROM ${raw(link.table)} l WHERE l.${raw(link.owner)} = ${raw(OWNER_TABLE[owner])}."id"
    AND l.${raw(link.value)} IN (SELECT id FROM ${raw(CAT_REGISTRIES[kind].table)} WHERE ${match} AND branch_id <> ${TRASH}))`;
}

/** What a client can do with the features of one artifact, run or record, here or remote. */
export interface FeaturesApi {
  add(values: FeatureValues, opts?: AddOptions): Promise<Annotation>;
  set(values: FeatureValues, opts?: AddOptions): Promise<Annotation>;
  get(): Promise<Annotation>;
  remove(...features: string[]): Promise<Annotation>;
  addLabels(labels: LabelRefs): Promise<Annotation>;
}

/**
 * The features of one artifact, run or record, as LaminDB's `obj.features`: `add`, `set`, `get`,
 * `remove`; labels without a feature (artifacts and runs) through `addLabels` / `removeLabels`.
 */
export class FeatureManager implements FeaturesApi {
  constructor(
    private readonly annotations: Annotations,
    private readonly owner: Owner,
    private readonly ref: OwnerRef,
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
