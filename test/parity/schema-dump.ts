/**
 * The schema of a database as Postgres reports it (information_schema.columns, pg_constraint,
 * unique indexes of pg_index, pg_trigger), in the shape of test/fixtures/lamindb-2.9/schema.json,
 * and the differences between two such shapes, one line each.
 */
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../core/db/client.js";

export interface Column {
  type: string;
  nullable: boolean;
  default: string | null;
  identity: boolean;
  /** Only in the fixture: what Django writes when no value is given (not a database default). */
  pythonDefault?: string;
}
export interface Unique {
  name: string;
  columns?: string[];
  expression?: string;
  where?: string;
}
export interface ForeignKey {
  column: string;
  references: string;
  /** What the database does on delete, and whether the check is deferred to the commit. */
  onDelete?: string;
  deferrable?: boolean;
  /** Only in the fixture: the model's `on_delete`, which Django carries out in Python. */
  modelOnDelete?: string;
}
export interface Check {
  name: string;
  definition: string;
}
export interface Trigger {
  name: string;
  timing: string;
  events: string;
  function: string;
}
export interface Table {
  columns: Record<string, Column>;
  primaryKey?: string[];
  unique: Unique[];
  foreignKeys: ForeignKey[];
  checks: Check[];
  triggers: Trigger[];
}
export type Schema = Record<string, Table>;

export function readFixture(): { source: Record<string, string>; tables: Schema } {
  const path = new URL("../fixtures/lamindb-2.9/schema.json", import.meta.url);
  return JSON.parse(readFileSync(path, "utf8"));
}

/** SQL text compared without casts, parentheses, quotes and case (Postgres adds all four). */
export function normalizeSql(text: string | null): string | null {
  if (text === null) return null;
  return text
    .replace(/::[a-z ]+(\(\d+\))?(\[\])?/gi, "")
    .replace(/^CHECK\s*/i, "")
    .replace(/[()"']/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : 1);

/** Every table of the current schema, normalized. */
export async function dumpSchema(db: Db): Promise<Schema> {
  const schema: Schema = {};
  const table = (name: string): Table => {
    schema[name] ??= { columns: {}, unique: [], foreignKeys: [], checks: [], triggers: [] };
    return schema[name];
  };
  const columns = await queryRows<{
    table_name: string;
    column_name: string;
    data_type: string;
    character_maximum_length: number | null;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
  }>(
    db,
    sql`SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length,
        c.is_nullable, c.column_default, c.is_identity
      FROM information_schema.columns c JOIN information_schema.tables t
        ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.column_name`,
  );
  for (const c of columns) {
    const length = c.character_maximum_length;
    table(c.table_name).columns[c.column_name] = {
      type: length === null ? c.data_type : `${c.data_type}(${length})`,
      nullable: c.is_nullable === "YES",
      default: normalizeSql(c.column_default),
      identity: c.is_identity === "YES",
    };
  }
  const constraints = await queryRows<{
    table: string;
    name: string;
    type: string;
    definition: string;
    columns: string[];
    ref_table: string | null;
    ref_column: string | null;
    on_delete: string;
    deferrable: boolean;
  }>(
    db,
    sql`SELECT c.relname AS table, con.conname AS name, con.contype AS type,
        pg_get_constraintdef(con.oid) AS definition,
        ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
        r.relname AS ref_table,
        (SELECT a.attname FROM pg_attribute a
          WHERE a.attrelid = con.confrelid AND a.attnum = con.confkey[1]) AS ref_column,
        con.confdeltype AS on_delete, con.condeferrable AS deferrable
      FROM pg_constraint con
      JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class r ON r.oid = con.confrelid
      WHERE n.nspname = current_schema()`,
  );
  const ON_DELETE: Record<string, string> = {
    a: "no action",
    r: "restrict",
    c: "cascade",
    n: "set null",
    d: "set default",
  };
  for (const c of constraints) {
    const t = table(c.table);
    if (c.type === "p") t.primaryKey = c.columns;
    else if (c.type === "u") t.unique.push({ name: c.name, columns: c.columns });
    else if (c.type === "c") {
      t.checks.push({ name: c.name, definition: normalizeSql(c.definition) ?? "" });
    } else if (c.type === "f") {
      t.foreignKeys.push({
        column: c.columns.join(","),
        references: `${c.ref_table}(${c.ref_column})`,
        onDelete: ON_DELETE[c.on_delete] ?? c.on_delete,
        deferrable: c.deferrable,
      });
    }
  }
  // unique indexes that back no constraint: partial and expression uniques
  const indexes = await queryRows<{
    table: string;
    name: string;
    keys: string[];
    expression: boolean;
    predicate: string | null;
  }>(
    db,
    sql`SELECT t.relname AS table, i.relname AS name,
        ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
          FROM generate_series(1, x.indnkeyatts) k) AS keys,
        x.indexprs IS NOT NULL AS expression,
        pg_get_expr(x.indpred, x.indrelid, true) AS predicate
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND x.indisunique AND NOT x.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid)`,
  );
  for (const x of indexes) {
    const unique: Unique = x.expression
      ? { name: x.name, expression: normalizeSql(x.keys.join(", ")) ?? "" }
      : { name: x.name, columns: x.keys };
    if (x.predicate) unique.where = normalizeSql(x.predicate) ?? "";
    table(x.table).unique.push(unique);
  }
  const triggers = await queryRows<{ table: string; name: string; type: number; fn: string }>(
    db,
    sql`SELECT c.relname AS table, t.tgname AS name, t.tgtype::int AS type, p.proname AS fn
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE n.nspname = current_schema() AND NOT t.tgisinternal`,
  );
  for (const t of triggers) {
    // pg_trigger.tgtype bits: 2 BEFORE, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE, 64 INSTEAD
    const timing = t.type & 64 ? "INSTEAD OF" : t.type & 2 ? "BEFORE" : "AFTER";
    const events = [
      [4, "INSERT"],
      [8, "DELETE"],
      [16, "UPDATE"],
      [32, "TRUNCATE"],
    ]
      .filter(([bit]) => t.type & (bit as number))
      .map(([, name]) => name)
      .sort()
      .join(" OR ");
    table(t.table).triggers.push({ name: t.name, timing, events, function: t.fn });
  }
  for (const t of Object.values(schema)) {
    t.unique.sort(byName);
    t.checks.sort(byName);
    t.triggers.sort(byName);
    t.foreignKeys.sort((a, b) => (a.column < b.column ? -1 : 1));
  }
  return schema;
}

/** The fixture, normalized as a dump is (defaults, expressions and checks as SQL text). */
export function normalizeFixture(tables: Schema): Schema {
  const out: Schema = {};
  for (const [name, t] of Object.entries(tables)) {
    out[name] = {
      ...t,
      columns: Object.fromEntries(
        Object.entries(t.columns).map(([c, col]) => [
          c,
          {
            ...col,
            default: normalizeSql(col.default),
            ...(col.pythonDefault !== undefined
              ? { pythonDefault: normalizeSql(col.pythonDefault) ?? "" }
              : {}),
          },
        ]),
      ),
      unique: t.unique.map((u) => ({
        ...u,
        ...(u.expression ? { expression: normalizeSql(u.expression) ?? "" } : {}),
        ...(u.where ? { where: normalizeSql(u.where) ?? "" } : {}),
      })),
      checks: t.checks.map((c) => ({ ...c, definition: normalizeSql(c.definition) ?? "" })),
      // Django's foreign keys: no action in the database (Django deletes in Python), deferred
      foreignKeys: t.foreignKeys.map((f) => ({ ...f, onDelete: "no action", deferrable: true })),
    };
  }
  return out;
}

const uniqueText = (u: Unique) =>
  `${u.name} ${u.expression ? `(${u.expression})` : `(${u.columns?.join(", ")})`}${u.where ? ` WHERE ${u.where}` : ""}`;

/**
 * Every difference of `actual` from `expected`, one line each, e.g.
 * `lamindb_feature.coerce: nullable NO here, YES in LaminDB`. Tables and columns only `actual`
 * has are differences too (`extra table ...`).
 */
export function schemaDiff(expected: Schema, actual: Schema): string[] {
  const out: string[] = [];
  for (const name of Object.keys(actual).sort()) {
    if (!expected[name]) out.push(`extra table ${name}`);
  }
  for (const [name, want] of Object.entries(expected).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const have = actual[name];
    if (!have) {
      out.push(`missing table ${name}`);
      continue;
    }
    for (const [col, w] of Object.entries(want.columns)) {
      const h = have.columns[col];
      if (!h) {
        out.push(`missing column ${name}.${col}`);
        continue;
      }
      if (h.type !== w.type) out.push(`${name}.${col}: type ${h.type} here, ${w.type} in LaminDB`);
      if (h.nullable !== w.nullable) {
        out.push(`${name}.${col}: ${h.nullable ? "nullable" : "NOT NULL"} here, not in LaminDB`);
      }
      if (h.identity !== w.identity) {
        out.push(`${name}.${col}: identity ${h.identity} here, ${w.identity} in LaminDB`);
      }
      if (h.default !== w.default) {
        if (w.default !== null || h.default === null) {
          out.push(`${name}.${col}: default ${h.default ?? "none"} here, ${w.default} in LaminDB`);
        } else if (h.default === w.pythonDefault) {
          out.push(`${name}.${col}: default ${h.default} here, in Python in LaminDB`);
        } else {
          out.push(`${name}.${col}: default ${h.default} here, none in LaminDB`);
        }
      }
    }
    for (const col of Object.keys(have.columns)) {
      if (!want.columns[col]) out.push(`extra column ${name}.${col}`);
    }
    if (JSON.stringify(have.primaryKey) !== JSON.stringify(want.primaryKey)) {
      out.push(`${name}: primary key ${have.primaryKey} here, ${want.primaryKey} in LaminDB`);
    }
    const haveUnique = new Set(have.unique.map(uniqueText));
    const wantUnique = new Set(want.unique.map(uniqueText));
    for (const u of wantUnique) if (!haveUnique.has(u)) out.push(`${name}: missing unique ${u}`);
    for (const u of haveUnique) if (!wantUnique.has(u)) out.push(`${name}: extra unique ${u}`);
    for (const w of want.foreignKeys) {
      const h = have.foreignKeys.find((f) => f.column === w.column);
      if (!h) out.push(`${name}: missing foreign key ${w.column} -> ${w.references}`);
      else if (h.references !== w.references) {
        out.push(
          `${name}.${w.column}: references ${h.references} here, ${w.references} in LaminDB`,
        );
      } else {
        if (h.onDelete !== w.onDelete) {
          out.push(
            h.onDelete === "cascade" && w.modelOnDelete === "CASCADE"
              ? `${name}.${w.column}: on delete cascade in the database here, in Python in LaminDB`
              : `${name}.${w.column}: on delete ${h.onDelete} here, ${w.onDelete} in LaminDB (model: ${w.modelOnDelete})`,
          );
        }
        if (h.deferrable !== w.deferrable) {
          out.push(`${name}.${w.column}: foreign key not deferrable here, deferred in LaminDB`);
        }
      }
    }
    for (const h of have.foreignKeys) {
      if (!want.foreignKeys.some((f) => f.column === h.column)) {
        out.push(`${name}: extra foreign key ${h.column} -> ${h.references}`);
      }
    }
    for (const w of want.checks) {
      const h = have.checks.find((c) => c.name === w.name);
      if (!h) out.push(`${name}: missing check ${w.name}`);
      else if (h.definition !== w.definition) {
        out.push(
          `${name}: check ${w.name} is (${h.definition}) here, (${w.definition}) in LaminDB`,
        );
      }
    }
    for (const h of have.checks) {
      if (!want.checks.some((c) => c.name === h.name)) out.push(`${name}: extra check ${h.name}`);
    }
    const triggerText = (t: Trigger) => `${t.name} ${t.timing} ${t.events} ${t.function}()`;
    const haveTriggers = new Set(have.triggers.map(triggerText));
    const wantTriggers = new Set(want.triggers.map(triggerText));
    for (const t of wantTriggers)
      if (!haveTriggers.has(t)) out.push(`${name}: missing trigger ${t}`);
    for (const t of haveTriggers) if (!wantTriggers.has(t)) out.push(`${name}: extra trigger ${t}`);
  }
  return out;
}
