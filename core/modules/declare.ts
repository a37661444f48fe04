/**
 * A module of one's own, declared as plain data: its name and its registries, each with fields
 * of a few kinds, a name field, and the links artifacts and records may have to its records.
 * From the declaration come its tables (as a description the migration writer diffs, see
 * ddl.ts), drizzle tables for queries, and a LaminModule the core treats as it treats bionty.
 *
 * Plain data rather than drizzle code, so that a module package needs no runtime import of this
 * one (its index.js names the types with JSDoc only) and the CLI can load it from any folder.
 */

import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  date,
  doublePrecision,
  integer,
  interval,
  jsonb,
  type PgColumn,
  type PgColumnBuilderBase,
  pgTable,
  smallint,
  text,
  timestamp,
  varchar,
} from "drizzle-orm/pg-core";
import { type Db, queryRows } from "../db/client.js";
import { ValidationError } from "../errors.js";
import { randomBase62 } from "../uid.js";
import type { LaminModule, ModuleRegistry, SeedReport } from "./types.js";

/** A field of a module registry (its column is the field's name; a ref's is `<name>_id`). */
export type FieldDeclaration =
  | {
      type: "string";
      /** Longest value (default 255). */
      max?: number;
      required?: boolean;
      unique?: boolean;
      doc?: string;
    }
  | {
      /** `duration`: a span of time (Postgres `interval`, Django's DurationField), e.g. `PT2H`. */
      type: "text" | "integer" | "float" | "boolean" | "date" | "datetime" | "json" | "duration";
      required?: boolean;
      unique?: boolean;
      doc?: string;
    }
  | {
      /**
       * A record of another registry of the same module, e.g. `{ type: "ref", to: "Donor" }`, or
       * of another module's (`bionty.Source`): that module must be enabled first.
       */
      type: "ref";
      to: string;
      required?: boolean;
      doc?: string;
    }
  | {
      /**
       * Records of a registry of the same module, many to many (Django's ManyToManyField):
       * the link table `<table>_<field>` with `<model>_id` and `<target model>_id` columns
       * (`from_<model>_id`, `to_<model>_id` when the target is the registry itself). The target
       * may be another module's registry (`bionty.Gene`), enabled first.
       */
      type: "many";
      to: string;
      doc?: string;
    };

export interface RegistryDeclaration {
  /** One line on what the registry holds. */
  doc?: string;
  fields: Record<string, FieldDeclaration>;
  /** The field `cat[mylab.Sample]` means and search ranks by (default `name`). */
  nameField?: string;
  /** An identifier values may also be given by (default: the name field). */
  idField?: string;
  /** Who may be annotated with its records: `artifacts` and/or `records` (LaminDB's links). */
  links?: ("artifacts" | "records")[];
  /**
   * Records the module ships, inserted when it is enabled or upgraded unless one with the same
   * id field (else name field) value is there: values of its plain fields (no refs).
   */
  seed?: Record<string, unknown>[];
}

export interface ModuleDeclaration {
  /** Lower-case letters and digits: the prefix of its tables (`mylab_sample`). */
  name: string;
  /**
   * Another prefix for its tables, when a module keeps older table names (pertdb's tables are
   * `wetlab_*`); the same rules as a name.
   */
  tablePrefix?: string;
  description?: string;
  /** Registries by model name (`Sample`), each becoming the table `<module>_<lowercased>`. */
  registries: Record<string, RegistryDeclaration>;
}

/** Type a declaration (it returns it unchanged); JSDoc users write `@type {ModuleDeclaration}`. */
export function defineModule<const D extends ModuleDeclaration>(declaration: D): D {
  return declaration;
}

/** Names a module may not take: the core's apps and Django's. */
export const RESERVED_MODULE_NAMES = new Set([
  "lamindb",
  "lns",
  "lamin",
  "lamin_hub",
  "django",
  "auth",
  "admin",
  "contenttypes",
  "sessions",
  "public",
  "pg",
  "core",
]);

const MODULE_NAME = /^[a-z][a-z0-9]{1,39}$/;
const REGISTRY_NAME = /^[A-Z][A-Za-z0-9]{0,62}$/;
const FIELD_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD_TYPES = new Set([
  "string",
  "text",
  "integer",
  "float",
  "boolean",
  "date",
  "datetime",
  "json",
  "duration",
  "ref",
  "many",
]);
/** Columns every module registry has; a field may not take these names. */
const RESERVED_FIELDS = new Set([
  "id",
  "uid",
  "created_at",
  "updated_at",
  "created_by_id",
  "run_id",
  // a record's run (its lineage, as LaminDB's `run`) is shown under this name
  "run",
  "branch_id",
  "created_on_id",
  "space_id",
  "is_locked",
  "_aux",
]);

export function checkModuleName(name: unknown, where = "module name"): string {
  if (typeof name !== "string" || !MODULE_NAME.test(name)) {
    throw new ValidationError(
      `invalid ${where} ${JSON.stringify(name)}`,
      "use 2 to 40 lower-case letters and digits, starting with a letter, e.g. mylab",
    );
  }
  if (RESERVED_MODULE_NAMES.has(name)) {
    throw new ValidationError(
      `the module name '${name}' is taken by LaminDB's core`,
      "choose another name, e.g. mylab",
    );
  }
  return name;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Check a declaration as loaded from a module package: every mistake is a ValidationError that
 * names the registry and field, before anything is written.
 */
export function checkDeclaration(value: unknown, source = "the module"): ModuleDeclaration {
  const bad = (what: string, hint: string) =>
    new ValidationError(`${source} declares ${what}`, hint);
  if (!isObject(value)) {
    throw bad(
      "no module",
      "its index.js must `export default { name, registries }` (see `lamin module new`)",
    );
  }
  const name = checkModuleName(value.name, `module name in ${source}`);
  const prefix =
    value.tablePrefix === undefined
      ? name
      : checkModuleName(value.tablePrefix, `table prefix in ${source}`);
  if (value.description !== undefined && typeof value.description !== "string") {
    throw bad("a description that is not a string", "make description a string");
  }
  if (!isObject(value.registries) || Object.keys(value.registries).length === 0) {
    throw bad("no registries", "declare at least one: registries: { Sample: { fields: {...} } }");
  }
  const registries = value.registries as Record<string, unknown>;
  const tables = new Map<string, string>();
  for (const [rname, r] of Object.entries(registries)) {
    if (!REGISTRY_NAME.test(rname)) {
      throw bad(`the registry name '${rname}'`, "registry names are CamelCase, e.g. Sample");
    }
    const table = tableName(prefix, rname);
    const other = tables.get(table);
    if (other) {
      throw bad(`${other} and ${rname}, which share the table ${table}`, "rename one of them");
    }
    tables.set(table, rname);
    if (!isObject(r) || !isObject(r.fields) || Object.keys(r.fields).length === 0) {
      throw bad(`${rname} without fields`, `give ${rname} fields: { name: { type: "string" } }`);
    }
    const columns = new Set<string>();
    for (const [fname, f] of Object.entries(r.fields)) {
      const at = `${rname}.${fname}`;
      if (!FIELD_NAME.test(fname) || RESERVED_FIELDS.has(fname)) {
        throw bad(
          `the field '${at}'`,
          `field names are snake_case and not one of ${[...RESERVED_FIELDS].join(", ")}`,
        );
      }
      if (!isObject(f) || typeof f.type !== "string" || !FIELD_TYPES.has(f.type)) {
        throw bad(`${at} without a valid type`, `type is one of ${[...FIELD_TYPES].join(", ")}`);
      }
      if (f.type === "string" && f.max !== undefined) {
        if (!Number.isInteger(f.max) || (f.max as number) < 1 || (f.max as number) > 10_000) {
          throw bad(`${at} with max ${JSON.stringify(f.max)}`, "max is a whole number, 1 to 10000");
        }
      }
      if (f.type === "ref" || f.type === "many") {
        const other = typeof f.to === "string" ? splitTarget(f.to) : undefined;
        const ok = other
          ? MODULE_NAME.test(other.module) &&
            other.module !== name &&
            !RESERVED_MODULE_NAMES.has(other.module) &&
            REGISTRY_NAME.test(other.registry)
          : typeof f.to === "string" && Object.hasOwn(registries, f.to);
        if (!ok) {
          throw bad(
            `${at} pointing to ${JSON.stringify(f.to)}`,
            `a ref points to a registry of the module (${Object.keys(registries).join(", ")}) or of another module, e.g. bionty.Gene`,
          );
        }
      }
      for (const flag of ["required", "unique"] as const) {
        if (f[flag] !== undefined && typeof f[flag] !== "boolean") {
          throw bad(`${at} with ${flag} ${JSON.stringify(f[flag])}`, `${flag} is true or false`);
        }
      }
      if (f.type === "many") continue; // a table of its own, not a column
      const column = columnName(fname, f as FieldDeclaration);
      if (columns.has(column) || RESERVED_FIELDS.has(column)) {
        throw bad(`two fields of ${rname} on the column ${column}`, "rename one of them");
      }
      columns.add(column);
    }
    for (const key of ["nameField", "idField"] as const) {
      const v = r[key];
      if (v === undefined) continue;
      const f = typeof v === "string" ? (r.fields as Record<string, unknown>)[v] : undefined;
      if (!isObject(f) || !["string", "text"].includes(f.type as string)) {
        throw bad(
          `${rname}.${key} ${JSON.stringify(v)}`,
          `${key} names a string field of ${rname}`,
        );
      }
    }
    if (r.nameField === undefined) {
      const f = (r.fields as Record<string, unknown>).name;
      if (!isObject(f) || !["string", "text"].includes(f.type as string)) {
        throw bad(
          `${rname} without a name field`,
          `give ${rname} a string field 'name', or say which one with nameField`,
        );
      }
    }
    if (r.links !== undefined) {
      if (
        !Array.isArray(r.links) ||
        r.links.some((l) => l !== "artifacts" && l !== "records") ||
        new Set(r.links).size !== r.links.length
      ) {
        throw bad(`${rname}.links ${JSON.stringify(r.links)}`, 'links: ["artifacts", "records"]');
      }
    }
    if (r.seed !== undefined) checkSeed(rname, r.fields as Record<string, unknown>, r.seed, bad);
  }
  const decl = value as unknown as ModuleDeclaration;
  const long = tablesOf(decl).find((t) => t.name.length > 63);
  if (long) {
    throw bad(`the table ${long.name}, longer than Postgres allows (63)`, "shorten the names");
  }
  return decl;
}

/** Seed rows: plain objects of the registry's plain fields, its name field given. */
function checkSeed(
  rname: string,
  fields: Record<string, unknown>,
  seed: unknown,
  bad: (what: string, hint: string) => ValidationError,
): void {
  if (!Array.isArray(seed) || seed.length > 10_000) {
    throw bad(`${rname}.seed that is not a list`, "seed: [{ name: ... }, ...], at most 10000");
  }
  seed.forEach((row, i) => {
    if (!isObject(row)) throw bad(`${rname}.seed[${i}] that is not an object`, "give field values");
    for (const [k, v] of Object.entries(row)) {
      const f = fields[k];
      if (!isObject(f) || f.type === "ref" || f.type === "many") {
        throw bad(`${rname}.seed[${i}].${k}`, `seed rows give values of ${rname}'s plain fields`);
      }
      if (v !== null && !["string", "number", "boolean"].includes(typeof v) && f.type !== "json") {
        throw bad(`${rname}.seed[${i}].${k} = ${JSON.stringify(v)}`, "give a string or number");
      }
    }
  });
}

/** `bionty.Gene` as its module and registry; undefined for a registry of the same module. */
export function splitTarget(to: string): { module: string; registry: string } | undefined {
  const dot = to.indexOf(".");
  if (dot < 0) return undefined;
  return { module: to.slice(0, dot), registry: to.slice(dot + 1) };
}

/** The table of a ref's target: the module's own (`<prefix>_<registry>`) or another's. */
export const targetTable = (prefix: string, to: string) => {
  const other = splitTarget(to);
  return other ? tableName(other.module, other.registry) : tableName(prefix, to);
};

/** Other modules a declaration's refs point into (enabled before it, see requiredModules). */
export function requiredModules(decl: ModuleDeclaration): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of Object.values(decl.registries)) {
    for (const f of Object.values(r.fields)) {
      if (f.type !== "ref" && f.type !== "many") continue;
      const other = splitTarget(f.to);
      if (!other) continue;
      out.set(other.module, (out.get(other.module) ?? new Set()).add(targetTable("", f.to)));
    }
  }
  return out;
}

/**
 * A Postgres identifier of at most 63 bytes: longer ones (Postgres would cut them, and two could
 * become one) keep their start and end with a hash of the whole name.
 */
export function pgName(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 54)}_${createHash("md5").update(name).digest("hex").slice(0, 8)}`;
}

export const tableName = (module: string, registry: string) =>
  `${module}_${registry.toLowerCase()}`;
const columnName = (field: string, f: FieldDeclaration) =>
  f.type === "ref" ? `${field}_id` : field;
/** The column of a registry's records in its link tables: `sample_id` (LaminDB: `<model>_id`). */
export const entityColumn = (registry: string) => `${registry.toLowerCase()}_id`;

// ------------------------------------------------------------------ tables, as data

/** A column as the migration writer sees it. */
export interface ColumnSpec {
  name: string;
  /** SQL type: `varchar(255)`, `integer`, ... */
  type: string;
  notNull: boolean;
  /** SQL default expression. */
  default?: string;
  /** `PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY`. */
  identity?: boolean;
  references?: { table: string; column: string; onDelete?: "cascade" };
}

export interface IndexSpec {
  name: string;
  columns: string[];
  unique: boolean;
  where?: string;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  indexes: IndexSpec[];
}

const SQL_TYPES: Record<string, string> = {
  text: "text",
  integer: "integer",
  float: "double precision",
  boolean: "boolean",
  date: "date",
  datetime: "timestamp with time zone",
  json: "jsonb",
  duration: "interval",
  ref: "integer",
};

/** The table prefix of a module: its name, or the prefix it declares. */
export const prefixOf = (decl: ModuleDeclaration) => decl.tablePrefix ?? decl.name;

/** Django's table of a ManyToManyField and its two columns. */
export function manyTable(
  decl: ModuleDeclaration,
  rname: string,
  field: string,
  to: string,
): { name: string; from: string; to: string } {
  const own = rname.toLowerCase();
  const other = (splitTarget(to)?.registry ?? to).toLowerCase();
  const self = own === other;
  return {
    name: `${tableName(prefixOf(decl), rname)}_${field}`,
    from: self ? `from_${own}_id` : `${own}_id`,
    to: self ? `to_${other}_id` : `${other}_id`,
  };
}

/** The uid of a module record: 12 base62 characters (LaminDB's length for most registries). */
export const MODULE_UID_LENGTH = 12;

const NOW = "statement_timestamp()";
const trackedColumns = (): ColumnSpec[] => [
  { name: "created_at", type: "timestamp with time zone", notNull: true, default: NOW },
  { name: "updated_at", type: "timestamp with time zone", notNull: true, default: NOW },
  {
    name: "created_by_id",
    type: "integer",
    notNull: true,
    references: { table: "lamindb_user", column: "id" },
  },
  {
    name: "run_id",
    type: "bigint",
    notNull: false,
    references: { table: "lamindb_run", column: "id" },
  },
  {
    name: "branch_id",
    type: "integer",
    notNull: true,
    default: "1",
    references: { table: "lamindb_branch", column: "id" },
  },
  {
    name: "created_on_id",
    type: "integer",
    notNull: true,
    default: "1",
    references: { table: "lamindb_branch", column: "id" },
  },
  {
    name: "space_id",
    type: "smallint",
    notNull: true,
    default: "1",
    references: { table: "lamindb_space", column: "id" },
  },
  { name: "is_locked", type: "boolean", notNull: true, default: "false" },
  { name: "_aux", type: "jsonb", notNull: false },
];

/** A link table as LaminDB's `bionty_artifact<entity>` / `bionty_record<entity>`. */
function linkTable(prefix: string, rname: string, owner: "artifact" | "record"): TableSpec {
  const entity = tableName(prefix, rname);
  const name = `${prefix}_${owner}${rname.toLowerCase()}`;
  const ownerCol = `${owner}_id`;
  const valueCol = owner === "artifact" ? entityColumn(rname) : "value_id";
  return {
    name,
    columns: [
      { name: "id", type: "bigint", notNull: true, identity: true },
      {
        name: ownerCol,
        type: "integer",
        notNull: true,
        references: { table: `lamindb_${owner}`, column: "id", onDelete: "cascade" },
      },
      {
        name: valueCol,
        type: "integer",
        notNull: true,
        references: { table: entity, column: "id" },
      },
      {
        name: "feature_id",
        type: "integer",
        notNull: false,
        references: { table: "lamindb_feature", column: "id" },
      },
      { name: "created_at", type: "timestamp with time zone", notNull: true, default: NOW },
      {
        name: "created_by_id",
        type: "integer",
        notNull: true,
        references: { table: "lamindb_user", column: "id" },
      },
      {
        name: "run_id",
        type: "bigint",
        notNull: false,
        references: { table: "lamindb_run", column: "id" },
      },
    ],
    indexes: [
      // one link per (owner, value, feature), also without a feature (NULLs are distinct)
      {
        name: `${name}_with_feature`,
        columns: [ownerCol, valueCol, "feature_id"],
        unique: true,
        where: '"feature_id" IS NOT NULL',
      },
      {
        name: `${name}_without_feature`,
        columns: [ownerCol, valueCol],
        unique: true,
        where: '"feature_id" IS NULL',
      },
      { name: `${name}_value`, columns: [valueCol, ownerCol], unique: false },
    ],
  };
}

/** The tables a declaration makes, in creation order: registries, then their link tables. */
export function tablesOf(decl: ModuleDeclaration): TableSpec[] {
  const out: TableSpec[] = [];
  const links: TableSpec[] = [];
  const prefix = prefixOf(decl);
  for (const [rname, r] of Object.entries(decl.registries)) {
    const name = tableName(prefix, rname);
    const columns: ColumnSpec[] = [
      { name: "id", type: "integer", notNull: true, identity: true },
      { name: "uid", type: `varchar(${MODULE_UID_LENGTH})`, notNull: true },
    ];
    const indexes: IndexSpec[] = [{ name: `${name}_uid_key`, columns: ["uid"], unique: true }];
    for (const [fname, f] of Object.entries(r.fields)) {
      if (f.type === "many") {
        const m = manyTable(decl, rname, fname, f.to);
        const target = targetTable(prefix, f.to);
        links.push({
          name: m.name,
          columns: [
            { name: "id", type: "bigint", notNull: true, identity: true },
            {
              name: m.from,
              type: "integer",
              notNull: true,
              references: { table: name, column: "id", onDelete: "cascade" },
            },
            {
              name: m.to,
              type: "integer",
              notNull: true,
              references: { table: target, column: "id", onDelete: "cascade" },
            },
          ],
          indexes: [
            { name: `${m.name}_pair`, columns: [m.from, m.to], unique: true },
            { name: `${m.name}_${m.to.replace(/_id$/, "")}`, columns: [m.to], unique: false },
          ],
        });
        continue;
      }
      const column = columnName(fname, f);
      columns.push({
        name: column,
        type: f.type === "string" ? `varchar(${f.max ?? 255})` : (SQL_TYPES[f.type] as string),
        notNull: f.required === true,
        ...(f.type === "ref"
          ? { references: { table: targetTable(prefix, f.to), column: "id" } }
          : {}),
      });
      if (f.type !== "ref" && f.unique) {
        indexes.push({ name: `${name}_${column}_key`, columns: [column], unique: true });
      } else if (f.type === "ref") {
        indexes.push({ name: `${name}_${column}`, columns: [column], unique: false });
      }
    }
    const nameField = r.nameField ?? "name";
    if (!indexes.some((i) => i.columns.length === 1 && i.columns[0] === nameField)) {
      indexes.push({ name: `${name}_${nameField}`, columns: [nameField], unique: false });
    }
    columns.push(...trackedColumns());
    out.push({ name, columns, indexes });
    for (const owner of r.links ?? []) {
      links.push(linkTable(prefix, rname, owner === "artifacts" ? "artifact" : "record"));
    }
  }
  return [...out, ...links];
}

// ------------------------------------------------------------------ seed

/**
 * Insert the declared seed rows that are not there yet (by id field, else name field): run in the
 * migration's transaction each time migrations are applied, so it is idempotent, and rows users
 * changed or added are kept as they are.
 */
export async function seedRecords(
  db: Db,
  decl: ModuleDeclaration,
  userId: number,
): Promise<SeedReport> {
  const inserted: Record<string, number> = {};
  for (const [rname, r] of Object.entries(decl.registries)) {
    if (!r.seed?.length) continue;
    const table = sql.identifier(tableName(prefixOf(decl), rname));
    const key = r.idField ?? r.nameField ?? "name";
    let n = 0;
    for (const row of r.seed) {
      const value = row[key];
      if (value !== undefined && value !== null) {
        const found = await queryRows(
          db,
          sql`SELECT 1 FROM ${table} WHERE ${sql.identifier(key)} = ${value} LIMIT 1`,
        );
        if (found.length > 0) continue;
      }
      const entries = Object.entries(row).map(([k, v]) => {
        const json = r.fields[k]?.type === "json";
        return [k, json ? sql`${JSON.stringify(v)}::jsonb` : sql`${v}`] as const;
      });
      const cols = ["uid", ...entries.map(([k]) => k), "created_by_id"].map((c) =>
        sql.identifier(c),
      );
      const values = [
        sql`${randomBase62(MODULE_UID_LENGTH)}`,
        ...entries.map(([, v]) => v),
        sql`${userId}`,
      ];
      await db.execute(
        sql`INSERT INTO ${table} (${sql.join(cols, sql`, `)}) VALUES (${sql.join(values, sql`, `)})`,
      );
      n++;
    }
    inserted[rname] = n;
  }
  return { inserted, parents: 0 };
}

// ------------------------------------------------------------------ drizzle tables, for queries

function builder(c: ColumnSpec): PgColumnBuilderBase {
  const varcharLength = /^varchar\((\d+)\)$/.exec(c.type)?.[1];
  let b: PgColumnBuilderBase & { notNull(): PgColumnBuilderBase };
  if (varcharLength) b = varchar(c.name, { length: Number(varcharLength) });
  else if (c.type === "text") b = text(c.name);
  else if (c.type === "integer") b = integer(c.name);
  else if (c.type === "bigint") b = bigint(c.name, { mode: "number" });
  else if (c.type === "smallint") b = smallint(c.name);
  else if (c.type === "double precision") b = doublePrecision(c.name);
  else if (c.type === "boolean") b = boolean(c.name);
  else if (c.type === "date") b = date(c.name, { mode: "string" });
  else if (c.type === "jsonb") b = jsonb(c.name);
  else if (c.type === "interval") b = interval(c.name);
  else b = timestamp(c.name, { withTimezone: true, mode: "date" });
  return c.notNull ? b.notNull() : b;
}

/** A drizzle table with every column under its SQL name (queries only: DDL is ddl.ts's). */
export function drizzleTable(spec: TableSpec) {
  return pgTable(spec.name, Object.fromEntries(spec.columns.map((c) => [c.name, builder(c)])));
}

/**
 * A declared module as the core sees modules (registries, migrations, seed). `migrations` reads
 * the module package's own migrations/ folder; the seed is what its registries declare.
 */
export function moduleOf(
  decl: ModuleDeclaration,
  migrations: LaminModule["migrations"],
  origin: string,
): LaminModule & { declaration: ModuleDeclaration; origin: string } {
  const specs = new Map(tablesOf(decl).map((t) => [t.name, t]));
  const prefix = prefixOf(decl);
  const registries: ModuleRegistry[] = Object.entries(decl.registries).map(([rname, r]) => {
    const spec = specs.get(tableName(prefix, rname)) as TableSpec;
    const table = drizzleTable(spec);
    const cols = table as unknown as Record<string, PgColumn>;
    const fields: Record<string, PgColumn> = { uid: cols.uid as PgColumn };
    for (const [fname, f] of Object.entries(r.fields)) {
      if (f.type === "string" || f.type === "text") fields[fname] = cols[fname] as PgColumn;
    }
    const nameField = r.nameField ?? "name";
    const link = (owner: "artifact" | "record") => ({
      table: `${prefix}_${owner}${rname.toLowerCase()}`,
      entityColumn: owner === "artifact" ? entityColumn(rname) : "value_id",
    });
    return {
      name: rname,
      table,
      fields,
      nameField,
      idField: r.idField ?? nameField,
      ...(r.links?.includes("artifacts") ? { artifactLink: link("artifact") } : {}),
      ...(r.links?.includes("records") ? { recordLink: link("record") } : {}),
    };
  });
  return {
    name: decl.name,
    description: decl.description ?? `${decl.name}: ${Object.keys(decl.registries).join(", ")}`,
    drizzleConfig: "",
    registries,
    migrations,
    seed: (db, userId) => seedRecords(db, decl, userId),
    declaration: decl,
    origin,
  };
}
