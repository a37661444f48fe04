/**
 * A registry declared once, as Django declares a model: its table, its uid rule, its public
 * fields (LaminDB's names, each read from a column, through a foreign key, or computed from the
 * row), what a create takes, and which fields search looks at. Everything else is derived from
 * the declaration: the filter fields of the query language, the select with its joins, the
 * public shape (`PublicOf`), the input type (`InputOf`) and its checks, and, at the edge, the
 * OpenAPI schemas, the generic routes and the SDK's typed client (functions/api/models.ts).
 *
 * The declaration is plain data about columns, so the HTTP layer, the SDK and the web UI can read
 * it without importing a database driver's behaviour.
 */
import { type Column, eq, getTableColumns, getTableName, type SQL, sql } from "drizzle-orm";
import { alias, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import { assertWritableRow } from "../../db/space-policies.js";
import { ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import {
  base62,
  common,
  type Keyed,
  MAX_DESCRIPTION,
  RecordRegistry,
  type Selected,
  type Spec,
  selectTracked,
  type Tracked,
  tracked,
} from "../records/base.js";
import { isHttpUrl } from "../records/checks.js";
import {
  addLinks,
  checkTargets,
  readLinks,
  removeLinks,
  versionedTarget,
  writableLink,
} from "./links.js";
import type { FieldMap, FieldType } from "./query.js";

export { versionedTarget } from "./links.js";

// ------------------------------------------------------------------ public fields

/** How a public value looks: the filter types, plus numbers with a fraction and JSON. */
export type ValueType = FieldType | "number" | "json";

interface FieldBase {
  type: ValueType;
  nullable: boolean;
  /** Longest string a column holds (varchar length). */
  max?: number | undefined;
  /** One line for the API reference. */
  doc?: string | undefined;
  example?: unknown;
}

/** A value read from a column of the registry's table. */
export interface ColumnField<V = unknown> extends FieldBase {
  kind: "column";
  column: PgColumn;
  /** Whether the field is a filter lookup (default true). */
  filter: boolean;
  /** Phantom: the public value's type. */
  readonly value?: V;
}

/** The uid (or another column) of the row a foreign key points to: `transform`, `type`. */
export interface RefField<V = unknown> extends FieldBase {
  kind: "ref";
  /** The foreign key column of the registry's table. */
  column: PgColumn;
  target: RefTarget;
  /** The target's column shown (default `uid`). */
  via: string;
  /** Target columns that are also filter lookups, as `<field>__<column>` (default uid, name). */
  lookups: string[];
  /** Inner join: the key is never null (default: left join when the column is nullable). */
  inner: boolean;
  /**
   * Join the target table itself rather than an alias of it, for registries whose hand-tuned
   * queries join it by name (artifacts: storage, run).
   */
  shared: boolean;
  readonly value?: V;
}

/**
 * A value computed from the row (`version` from the tag or the uid suffix), and from the values
 * of the registry's refs where it needs them (an artifact's path: its storage root and key).
 */
export interface ComputedField<V = unknown> extends FieldBase {
  kind: "computed";
  compute: (row: Record<string, unknown>, refs: Record<string, unknown>) => V;
  /** A filter lookup on the same value, when SQL can compute it too. */
  filter?: { column: Column | SQL; type: FieldType } | undefined;
  readonly value?: V;
}

/**
 * A column of a link row besides its two ends, set with the link: a role (`projectuser.role`),
 * a config (`transformtransform.config`), the feature a label is a value of (`feature: true`:
 * given as a feature's name or uid, kept as its id, shown as its name).
 */
export interface LinkColumn {
  column: PgColumn;
  input: Input;
  feature?: boolean;
}

/**
 * The rows a link table ties to a record (`collection.artifacts`), in link order: their `via`
 * values, or with link columns one object per link (`{ handle, role }`).
 */
export interface ManyField<V = string[]> extends FieldBase {
  kind: "many";
  /** The link table, its column that points to this registry, and to the target. */
  link: PgTable & { id: PgColumn };
  from: PgColumn;
  to: PgColumn;
  target: RefTarget;
  via: string;
  /** Target columns a caller may name a target by, tried in order (a uid wins over a name). */
  match: string[];
  /** Link columns set with each link (see LinkColumn). */
  columns?: Record<string, LinkColumn> | undefined;
  /** Links a caller may add and remove (`link`/`unlink`); acyclic ones refuse a cycle. */
  write?: { acyclic: boolean } | undefined;
  readonly value?: V;
}

export type Field<V = unknown> = ColumnField<V> | RefField<V> | ComputedField<V> | ManyField<V>;

type RefTarget = PgTable & { id: PgColumn };
/** A column of a ref target by property name. */
const columnOf = (table: RefTarget, property: string) =>
  (table as unknown as Record<string, PgColumn>)[property] as PgColumn;

/** A public value of a column: timestamps as ISO strings, nullable as its column. */
type Public<T> = T extends Date ? string : T;
type ValueOf<C extends PgColumn> = C["_"]["notNull"] extends true
  ? Public<C["_"]["data"]>
  : Public<C["_"]["data"]> | null;

const INTEGER_COLUMNS = new Set([
  "PgInteger",
  "PgSerial",
  "PgSmallInt",
  "PgSmallSerial",
  "PgBigInt53",
  "PgBigSerial53",
]);

/** The value type of a column, from drizzle's description of it. */
function valueTypeOf(column: PgColumn): ValueType {
  switch (column.dataType) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "date":
      return "date";
    case "json":
      return "json";
    case "number":
      return INTEGER_COLUMNS.has(column.columnType) ? "integer" : "number";
    default:
      return "string";
  }
}

interface FieldOptions {
  doc?: string;
  example?: unknown;
  /** Not a filter lookup (large text, JSON). */
  noFilter?: boolean;
}

const described = (column: PgColumn, opts: FieldOptions) => ({
  type: valueTypeOf(column),
  nullable: !column.notNull,
  max: (column as { length?: number }).length,
  doc: opts.doc,
  example: opts.example,
});

export const field = {
  /** The value of a column of the registry's table. */
  column<C extends PgColumn>(column: C, opts: FieldOptions = {}): ColumnField<ValueOf<C>> {
    const base = described(column, opts);
    return {
      kind: "column",
      column,
      ...base,
      filter: !opts.noFilter && base.type !== "json",
    };
  },
  /** The `via` column (default uid) of the row the foreign key `column` points to. */
  ref<C extends PgColumn, Nullable extends boolean = C["_"]["notNull"] extends true ? false : true>(
    column: C,
    target: RefTarget,
    opts: FieldOptions & { via?: string; lookups?: string[]; shared?: boolean } = {},
  ): RefField<Nullable extends true ? string | null : string> {
    const via = opts.via ?? "uid";
    return {
      kind: "ref",
      column,
      target,
      via,
      lookups: opts.lookups ?? ["uid", "name"].filter((c) => c in target),
      inner: column.notNull,
      shared: opts.shared ?? false,
      type: "string",
      nullable: !column.notNull,
      doc: opts.doc,
      example: opts.example,
    };
  },
  /**
   * The `via` column (default uid) of the rows the link table ties to a record; with `columns`,
   * one object per link with `via` and the link columns.
   */
  many<C extends Record<string, LinkColumn> = Record<never, LinkColumn>>(
    link: PgTable & { id: PgColumn },
    from: PgColumn,
    to: PgColumn,
    target: RefTarget,
    opts: FieldOptions & {
      via?: string;
      match?: string[];
      columns?: C;
      write?: { acyclic?: boolean };
    } = {},
  ): ManyField<[keyof C] extends [never] ? string[] : Record<string, unknown>[]> {
    const via = opts.via ?? "uid";
    return {
      kind: "many",
      link,
      from,
      to,
      target,
      via,
      match: opts.match ?? [via],
      columns: opts.columns,
      write: opts.write ? { acyclic: opts.write.acyclic ?? false } : undefined,
      type: "json",
      nullable: false,
      doc: opts.doc,
      example: opts.example,
    };
  },
  /** A value computed from the row; `filter` makes it a lookup when SQL can compute it. */
  computed<V>(
    type: ValueType,
    compute: (row: Record<string, unknown>, refs: Record<string, unknown>) => V,
    opts: FieldOptions & { nullable?: boolean; filter?: ComputedField["filter"] } = {},
  ): ComputedField<V> {
    return {
      kind: "computed",
      compute,
      type,
      nullable: opts.nullable ?? false,
      filter: opts.filter,
      doc: opts.doc,
      example: opts.example,
    };
  },
};

// ------------------------------------------------------------------ create inputs

interface InputBase {
  required: boolean;
  doc?: string | undefined;
  example?: unknown;
}

export type Input =
  | (InputBase & {
      type: "string";
      max: number;
      format?: "url" | undefined;
      /** What the string must look like, and how to say so. */
      pattern?: { regex: RegExp; hint: string } | undefined;
    })
  | (InputBase & { type: "boolean" })
  | (InputBase & { type: "integer" })
  | (InputBase & { type: "enum"; values: readonly string[] })
  | (InputBase & { type: "json" })
  | (InputBase & { type: "list"; of: Input; max: number });

/** What an input is in TypeScript. */
type InputValue<I> = I extends { type: "string" }
  ? string
  : I extends { type: "boolean" }
    ? boolean
    : I extends { type: "integer" }
      ? number
      : I extends { type: "enum"; values: readonly (infer E)[] }
        ? E
        : I extends { type: "list"; of: infer O }
          ? InputValue<O>[]
          : Record<string, unknown>;

interface InputOptions {
  doc?: string;
  example?: unknown;
}

export const input = {
  /** A string of at most `max` characters (a required one is not blank). */
  string: (
    max: number,
    opts: InputOptions & { format?: "url"; pattern?: { regex: RegExp; hint: string } } = {},
  ) => ({
    type: "string" as const,
    max,
    required: false as boolean,
    ...opts,
  }),
  boolean: (opts: InputOptions = {}) => ({
    type: "boolean" as const,
    required: false as boolean,
    ...opts,
  }),
  integer: (opts: InputOptions = {}) => ({
    type: "integer" as const,
    required: false as boolean,
    ...opts,
  }),
  enum: <const E extends readonly string[]>(values: E, opts: InputOptions = {}) => ({
    type: "enum" as const,
    values,
    required: false as boolean,
    ...opts,
  }),
  json: (opts: InputOptions = {}) => ({
    type: "json" as const,
    required: false as boolean,
    ...opts,
  }),
  list: <O extends Input>(of: O, max: number, opts: InputOptions = {}) => ({
    type: "list" as const,
    of,
    max,
    required: false as boolean,
    ...opts,
  }),
  /** The same input, required. */
  required: <I extends Input>(i: I): I & { required: true } => ({ ...i, required: true }),
};

type RequiredKeys<I> = { [K in keyof I]: I[K] extends { required: true } ? K : never }[keyof I];

/** The input of a create, from the declared inputs: required ones required, others nullable. */
export type InputShape<I extends Record<string, Input>> = {
  [K in RequiredKeys<I>]: InputValue<I[K]>;
} & {
  [K in Exclude<keyof I, RequiredKeys<I>>]?: InputValue<I[K]> | null;
};

/** A create's input after `check`: every declared input, absent optional ones null. */
export type Checked<I extends Record<string, Input>> = {
  -readonly [K in keyof I]: I[K] extends { required: true }
    ? InputValue<I[K]>
    : InputValue<I[K]> | null;
};

const typeName = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;

/**
 * Check one input value against its declaration: the value, null when absent, or a
 * ValidationError that says what to send. The edge checks the same rules with zod first; this is
 * what in-process callers (the SDK, the CLI) get.
 */
export function checkInput(name: string, decl: Input, value: unknown, registry: string): unknown {
  const missing = () =>
    new ValidationError(
      `a ${registry} needs a ${name}`,
      decl.example !== undefined ? `e.g. "${name}": ${JSON.stringify(decl.example)}` : undefined,
    );
  if (value === undefined || value === null) {
    if (decl.required) throw missing();
    return null;
  }
  const wrong = (what: string) =>
    new ValidationError(
      `${name} must be ${what}, got ${typeName(value)}`,
      `give ${name} as ${what}`,
    );
  switch (decl.type) {
    case "string": {
      if (typeof value !== "string") throw wrong("a string");
      if (value.length > decl.max) {
        throw new ValidationError(`${name} is longer than ${decl.max} characters`, "shorten it");
      }
      if (decl.required && value.trim() === "") throw missing();
      if (decl.pattern && !decl.pattern.regex.test(value)) {
        throw new ValidationError(
          `invalid ${name} ${JSON.stringify(value.slice(0, 100))}: ${decl.pattern.hint}`,
          decl.example !== undefined ? `e.g. ${JSON.stringify(decl.example)}` : undefined,
        );
      }
      if (decl.format === "url" && !isHttpUrl(value)) {
        throw new ValidationError(
          `invalid ${name} ${JSON.stringify(value.slice(0, 100))}`,
          `give an http(s) URL, e.g. ${decl.example ?? "https://example.org"}`,
        );
      }
      return value;
    }
    case "boolean":
      if (typeof value !== "boolean") throw wrong("true or false");
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) throw wrong("an integer");
      return value;
    case "enum":
      if (typeof value !== "string" || !decl.values.includes(value)) {
        throw new ValidationError(
          `invalid ${registry} ${name} ${JSON.stringify(value).slice(0, 100)}`,
          `use one of ${decl.values.join(", ")}`,
        );
      }
      return value;
    case "json":
      if (typeof value !== "object" || Array.isArray(value)) throw wrong("an object");
      return value;
    case "list":
      if (!Array.isArray(value)) throw wrong("a list");
      if (value.length > decl.max) {
        throw new ValidationError(`${name} has more than ${decl.max} entries`, "send fewer");
      }
      return value.map((v, i) => checkInput(`${name}[${i}]`, decl.of, v, registry));
  }
}

// ------------------------------------------------------------------ the declaration

/** The columns every record table has. */
export type RecordTable = PgTable & {
  id: PgColumn;
  uid: PgColumn;
  createdAt: PgColumn;
  /** Absent where LaminDB records no updates (blocks): `created_at` stands in. */
  updatedAt?: PgColumn;
  branchId: PgColumn;
  createdById: PgColumn;
  isLatest?: PgColumn;
};

export interface RegistryDeclaration<
  T extends RecordTable,
  F extends Record<string, Field>,
  I extends Record<string, Input>,
> {
  /** In messages and as the OpenAPI schema name: `project` (schema `Project`). */
  name: string;
  /** As in routes and the SDK: `projects`. */
  plural: string;
  /** The OpenAPI schema name, when not the capitalised name (`ULabel`). */
  title?: string;
  /** One line on what the registry holds. */
  doc: string;
  table: T;
  /** uid length; versioned registries: the full length and the stem that names a family. */
  uid: { length: number; stem?: number; also?: number[]; example: string };
  fields: F;
  /** Filter lookups besides the fields and the ones every record has. */
  filters?: FieldMap;
  /** What a create takes. */
  inputs: I;
  /** Fields search matches, best first. */
  search: (keyof F & string)[];
}

/** The public shape of a registry's records. */
export type PublicOf<M> = M extends { fields: infer F }
  ? { -readonly [K in keyof F]: F[K] extends Field<infer V> ? V : never } & Tracked
  : never;

/** What a create of a registry takes. */
export type InputOf<M> = M extends { inputs: infer I extends Record<string, Input> }
  ? InputShape<I>
  : never;

/** What is derived from a declaration, whatever the registry. */
export interface AnyRegistryModel {
  name: string;
  plural: string;
  title: string;
  doc: string;
  table: RecordTable;
  uid: RegistryDeclaration<RecordTable, never, never>["uid"];
  fields: Record<string, Field>;
  inputs: Record<string, Input>;
  search: string[];
  spec: Spec;
  /** The select of records with their creator and every ref's join. */
  select(db: Parameters<typeof selectTracked>[0]): ReturnType<typeof selectTracked>;
  toPublic(s: Selected): unknown;
  /** Check a create's input against `inputs`: the values by input name, absent ones null. */
  check(value: unknown): Record<string, unknown>;
}

export interface RegistryModel<
  T extends RecordTable,
  F extends Record<string, Field>,
  I extends Record<string, Input>,
> extends RegistryDeclaration<T, F, I>,
    Omit<AnyRegistryModel, keyof RegistryDeclaration<T, F, I>> {
  title: string;
  toPublic(s: Selected): PublicOf<RegistryDeclaration<T, F, I>>;
  check(value: unknown): Checked<I>;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Declare a registry; see the module's comment for what is derived from it. */
export function defineRegistry<
  T extends RecordTable,
  const F extends Record<string, Field>,
  const I extends Record<string, Input>,
>(decl: RegistryDeclaration<T, F, I>): RegistryModel<T, F, I> {
  const { table, fields, name } = decl;
  // one alias per ref field: a registry may point twice at one table (type, and a parent)
  const refs = Object.entries(fields)
    .filter((e): e is [string, RefField] => e[1].kind === "ref")
    .map(([key, ref]) => ({
      key,
      ref,
      joined: ref.shared
        ? ref.target
        : (alias(ref.target as PgTable, `${name}_${key}`) as unknown as RefTarget),
    }));

  const columns: Spec["table"] = {
    id: table.id,
    uid: table.uid,
    createdAt: table.createdAt,
    updatedAt: table.updatedAt ?? table.createdAt,
    branchId: table.branchId,
    ...(table.isLatest ? { isLatest: table.isLatest } : {}),
  };
  const filterFields: FieldMap = { ...common(columns) };
  for (const [key, f] of Object.entries(fields)) {
    if (f.kind === "column" && f.filter) {
      filterFields[key] = { column: f.column, type: f.type as FieldType };
    } else if (f.kind === "computed" && f.filter) {
      filterFields[key] = f.filter;
    }
  }
  for (const { key, ref, joined } of refs) {
    for (const lookup of ref.lookups) {
      filterFields[`${key}__${lookup}`] = { column: columnOf(joined, lookup), type: "string" };
    }
  }
  Object.assign(filterFields, decl.filters);

  const { length, stem, also = [] } = decl.uid;
  if (stem !== undefined) versionedTarget(table, stem);
  const lengths = [...new Set([length, ...also])].map((n) =>
    stem !== undefined && n === length ? `${base62(stem)}(${base62(n - stem)})?` : base62(n),
  );
  const spec: Spec = {
    name,
    plural: decl.plural,
    fields: filterFields,
    table: columns,
    uid: new RegExp(`^(?:${lengths.join("|")})$`),
    uidHint:
      stem !== undefined
        ? `a ${name} uid has ${length} base62 characters (${stem} for the latest version of a family)`
        : `a ${name} uid has ${length} base62 characters`,
    ...(stem !== undefined ? { stem } : {}),
  };

  const refValues = Object.fromEntries(
    refs.map(({ key, ref, joined }) => [`ref_${key}`, columnOf(joined, ref.via)]),
  );
  // The public shape's reads, worked out once: a page of rows runs them for every row
  const refReads = refs.map(({ key }) => ({ key, selectedAs: `ref_${key}` }));
  const reads = Object.entries(fields).map(([key, f]) =>
    f.kind === "column"
      ? { key, kind: f.kind, property: propertyOf(table, f.column) }
      : f.kind === "computed"
        ? { key, kind: f.kind, compute: f.compute }
        : { key, kind: f.kind },
  );

  return {
    ...decl,
    title: decl.title ?? capitalised(name),
    spec,
    select(db) {
      let query = selectTracked(db, table, refValues);
      for (const { ref, joined } of refs) {
        const on = eq(ref.column, joined.id);
        query = (
          ref.inner ? query.innerJoin(joined as PgTable, on) : query.leftJoin(joined as PgTable, on)
        ) as typeof query;
      }
      return query;
    },
    toPublic(s) {
      const row = s.row as unknown as Record<string, unknown>;
      const selected = s as unknown as Record<string, unknown>;
      const refValues: Record<string, unknown> = {};
      for (const { key, selectedAs } of refReads) refValues[key] = selected[selectedAs] ?? null;
      const out: Record<string, unknown> = {};
      for (const read of reads) {
        out[read.key] =
          read.kind === "column"
            ? publicValue(row[read.property])
            : read.kind === "ref"
              ? refValues[read.key]
              : read.kind === "computed"
                ? read.compute(row, refValues)
                : []; // filled by ModelRegistry.shape, one query per page
      }
      return Object.assign(out, tracked(s)) as PublicOf<RegistryDeclaration<T, F, I>>;
    },
    check(value) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ValidationError(`a ${name} is described by an object`, `see GET /openapi.json`);
      }
      const given = value as Record<string, unknown>;
      const unknown = Object.keys(given).filter(
        (k) => !Object.hasOwn(decl.inputs, k) && given[k] !== undefined,
      );
      if (unknown.length) {
        throw new ValidationError(
          `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")} for a ${name}`,
          `a ${name} takes ${Object.keys(decl.inputs).join(", ")}`,
        );
      }
      return Object.fromEntries(
        Object.entries(decl.inputs).map(([k, i]) => [k, checkInput(k, i, given[k], name)]),
      ) as Checked<I>;
    },
  };
}

/** The TypeScript property under which drizzle returns `column` of `table`. */
const properties = new WeakMap<PgTable, Map<Column, string>>();
function propertyOf(table: PgTable, column: Column): string {
  let byColumn = properties.get(table);
  if (!byColumn) {
    byColumn = new Map(Object.entries(getTableColumns(table)).map(([prop, col]) => [col, prop]));
    properties.set(table, byColumn);
  }
  const prop = byColumn.get(column);
  if (prop === undefined) throw new Error(`${column.name} is not a column of this table`);
  return prop;
}

const publicValue = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

/** A registry whose spec, select and public shape come from its model. */
/** A record of a model's table as fetched: the row, its creator's handle, its cursor keys. */
export type SelectedOf<M extends AnyRegistryModel> = Keyed<
  M["table"]["$inferSelect"] & Selected["row"]
>;

export abstract class ModelRegistry<M extends AnyRegistryModel> extends RecordRegistry<
  SelectedOf<M>,
  PublicOf<M>
> {
  constructor(
    instance: Instance,
    readonly model: M,
  ) {
    super(instance);
  }

  protected get spec(): Spec {
    return this.model.spec;
  }

  protected select() {
    return this.model.select(this.db) as unknown as ReturnType<
      RecordRegistry<SelectedOf<M>, PublicOf<M>>["select"]
    >;
  }

  protected toPublic(s: SelectedOf<M>): PublicOf<M> {
    return this.model.toPublic(s) as PublicOf<M>;
  }

  /** The relations of this registry that callers may add to and remove from. */
  get writableLinks(): string[] {
    return Object.entries(this.model.fields)
      .filter(([, f]) => f.kind === "many" && f.write)
      .map(([k]) => k);
  }

  /**
   * Link the record `uid` to the records `targets` (uids; a stem means the latest version)
   * through `relation`, e.g. `references.link(ref, "artifacts", [a, b])`; `values` sets the
   * relation's link columns (`{ role: "owner" }`). Links that exist are kept; an acyclic relation
   * refuses a link that would close a cycle. Returns the record.
   */
  async link(
    uid: string,
    relation: string,
    targets: readonly string[],
    values: Record<string, unknown> = {},
  ): Promise<PublicOf<M>> {
    return this.changeLinks(uid, relation, targets, values, "add");
  }

  /**
   * Remove the links of `uid` to `targets` through `relation` (with `values`: only the links
   * with those column values); returns the record.
   */
  async unlink(
    uid: string,
    relation: string,
    targets: readonly string[],
    values: Record<string, unknown> = {},
  ): Promise<PublicOf<M>> {
    return this.changeLinks(uid, relation, targets, values, "remove");
  }

  private async changeLinks(
    uid: string,
    relation: string,
    targets: readonly string[],
    values: Record<string, unknown>,
    change: "add" | "remove",
  ): Promise<PublicOf<M>> {
    const f = writableLink(this.model.fields, relation, this.model.name);
    const refs = checkTargets(targets, relation, this.model.uid.example);
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
      throw new ValidationError("link values must be an object", 'e.g. { "role": "owner" }');
    }
    const owner = await this.find(uid);
    await assertWritableRow(this.instance.database, getTableName(this.model.table), owner.row.id);
    await this.db.transaction((tx) =>
      change === "add"
        ? addLinks(tx, this.instance, f, relation, owner.row.id, refs, values)
        : removeLinks(tx, f, relation, owner.row.id, refs, values),
    );
    return this.byId(owner.row.id);
  }

  /**
   * Set the description of `uid` (a stem: the latest version), or clear it with `null`: LaminDB's
   * `lamin update transform|collection|project --description`. Returns the record.
   */
  async updateDescription(uid: string, description: string | null): Promise<PublicOf<M>> {
    const { name } = this.model;
    const columns = getTableColumns(this.model.table) as Record<string, PgColumn>;
    if (!columns.description || !("description" in this.model.fields)) {
      throw new ValidationError(`a ${name} has no description`);
    }
    if (description !== null && typeof description !== "string") {
      throw new ValidationError("a description is text (or null to clear it)");
    }
    if (description !== null && description.length > MAX_DESCRIPTION) {
      throw new ValidationError(
        `the description has ${description.length} characters; at most ${MAX_DESCRIPTION} fit`,
        "shorten it, or keep long text in the record's README (lamin readme set)",
      );
    }
    const owner = await this.find(uid);
    await assertWritableRow(this.instance.database, getTableName(this.model.table), owner.row.id);
    await this.db
      .update(this.model.table)
      .set({ description, ...(columns.updatedAt ? { updatedAt: sql`now()` } : {}) } as never)
      .where(eq(this.spec.table.id, owner.row.id));
    return this.byId(owner.row.id);
  }

  /** The public shapes of a page, with every `many` field filled in one query each. */
  protected override async shape(rows: SelectedOf<M>[]): Promise<PublicOf<M>[]> {
    const out = rows.map((r) => this.toPublic(r) as Record<string, unknown>);
    if (rows.length === 0) return out as PublicOf<M>[];
    const ids = rows.map((r) => r.row.id);
    for (const [key, f] of Object.entries(this.model.fields)) {
      if (f.kind !== "many") continue;
      const byOwner = await readLinks(this.db, f, ids);
      rows.forEach((r, i) => {
        (out[i] as Record<string, unknown>)[key] = byOwner.get(r.row.id) ?? [];
      });
    }
    return out as PublicOf<M>[];
  }
}
