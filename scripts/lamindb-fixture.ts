// Derive test/fixtures/lamindb-2.9/schema.json, the database LaminDB 2.9 makes (lamindb + bionty),
// from the table model extracted from its migrations (`lamindb-2.9-schema.json`: lamindb
// 0193_squashed at commit 760fdf9163d1, tables equal to tag 2.9.1 fa34c885; bionty 0065_squashed
// at 18e0b60c). Column types, nullability and database defaults as Django 5.2 writes them on
// Postgres; constraint names as Django names them (explicit names, `<table>_<col>_key` for
// unique fields, `_create_index_name(..., "_uniq")` for unique_together); the CHECKs and
// pgtrigger triggers that 0193_squashed adds on Postgres only (RunPython `apply_constraints` and
// `AddTrigger`), which the extracted model does not list, are added here by name.
//
//   npx tsx scripts/lamindb-fixture.ts path/to/lamindb-2.9-schema.json
//   npx biome check --write test/fixtures/lamindb-2.9/schema.json
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { djangoIndexName } from "../core/db/schema/columns.js";
import type { Check, Column, ForeignKey, Table, Unique } from "../test/parity/schema-dump.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = process.argv[2];
if (!source) {
  console.error("usage: npx tsx scripts/lamindb-fixture.ts path/to/lamindb-2.9-schema.json");
  process.exit(2);
}
/** A column of lamindb-2.9-schema.json (values as the migration writes them, Python-ish). */
interface ModelColumn {
  type: string;
  null: boolean;
  pk?: boolean;
  unique?: boolean;
  fk?: string;
  on_delete?: string;
  db_default?: unknown;
  py_default?: unknown;
}
interface ModelTable {
  columns: Record<string, ModelColumn>;
  unique_together: string[][];
  constraints: string[];
  auto_m2m?: boolean;
}
type Columns = Record<string, ModelColumn>;

const model = JSON.parse(readFileSync(source, "utf8")) as Record<string, ModelTable>;
const out = join(root, "test", "fixtures", "lamindb-2.9", "schema.json");

const NOW = "<django.db.models.functions.datetime.Now()>";
/** A db_default as Postgres reports it, normalized like test/parity/schema-dump.ts does. */
function dbDefault(value: unknown): string | null {
  if (value === undefined || value === null || value === "None") return null;
  if (value === NOW) return "statement_timestamp()"; // Django's Now() on Postgres
  if (value === false || value === "False") return "false";
  if (value === true || value === "True") return "true";
  return String(value);
}

/** A literal Python default (not a callable such as `current_user_id`, not "no default"). */
const pythonLiteral = (value: unknown) =>
  value !== undefined && value !== null && value !== "None" && !String(value).startsWith("<");

/** `lamindb.artifact` → `lamindb_artifact` */
const tableOf = (ref: string) => ref.replace(".", "_");

/** A model field name of `unique_together`/`fields=` as its column (`artifact` → `artifact_id`). */
function columnOf(columns: Columns, field: string): string {
  if (columns[field]) return field;
  if (columns[`${field}_id`]) return `${field}_id`;
  throw new Error(`no column for field ${field}`);
}

const parseFields = (text: string) => [...text.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string);

function parseConstraint(
  table: string,
  columns: Columns,
  text: string,
): { unique?: Unique; check?: Check } {
  const name = /name='([^']+)'/.exec(text)?.[1];
  if (!name) throw new Error(`unnamed constraint on ${table}: ${text}`);
  if (text.startsWith("models.CheckConstraint")) {
    // the one CHECK of this form: Q(is_type=True) | Q(_dtype_str__isnull=False)
    if (!/\('is_type', True\), \('_dtype_str__isnull', False\), _connector='OR'/.test(text)) {
      throw new Error(`unexpected CHECK ${text}`);
    }
    return { check: { name, definition: "is_type OR _dtype_str IS NOT NULL" } };
  }
  const lower = /Lower\('([a-z_]+)'\)/.exec(text);
  if (lower) return { unique: { name, expression: `lower(${lower[1]})` } };
  const fields = /fields=\(([^)]*)\)/.exec(text);
  if (!fields) throw new Error(`unexpected constraint ${text}`);
  const cols = parseFields(fields[1] ?? "").map((f) => columnOf(columns, f));
  const cond = /condition=models\.Q\(\('([a-z_]+)__isnull', (True|False)\)\)/.exec(text);
  const where = cond
    ? `${columnOf(columns, cond[1] ?? "")} IS ${cond[2] === "True" ? "NULL" : "NOT NULL"}`
    : null;
  return { unique: { name, columns: cols, ...(where ? { where } : {}) } };
}

/** The six `<registry>_type_is_valid_fk` CHECKs of `apply_constraints` in 0193_squashed. */
const TYPE_CHECKS: Record<string, string> = {
  lamindb_record: "is_valid_record_type(type_id, is_type)",
  lamindb_feature: "is_valid_feature_type(type_id)",
  lamindb_schema: "is_valid_schema_type(type_id)",
  lamindb_project: "is_valid_project_type(type_id)",
  lamindb_reference: "is_valid_reference_type(type_id)",
  lamindb_ulabel: "is_valid_ulabel_type(type_id)",
};

/** pgtrigger's triggers of 0193_squashed (trigger and function are named by the pgid). */
const TRIGGERS: Record<string, [string, string][]> = {
  lamindb_project: [["pgtrigger_prevent_project_type_cycle_e2567", "INSERT OR UPDATE"]],
  lamindb_record: [["pgtrigger_prevent_record_type_cycle_56c18", "INSERT OR UPDATE"]],
  lamindb_reference: [["pgtrigger_prevent_reference_type_cycle_3d37c", "INSERT OR UPDATE"]],
  lamindb_schema: [["pgtrigger_prevent_schema_type_cycle_b403c", "INSERT OR UPDATE"]],
  lamindb_ulabel: [["pgtrigger_prevent_ulabel_type_cycle_863ae", "INSERT OR UPDATE"]],
  lamindb_feature: [
    ["pgtrigger_prevent_feature_type_cycle_04c90", "INSERT OR UPDATE"],
    ["pgtrigger_update_feature_on_name_change_6c32d", "UPDATE"],
  ],
};

const tables: Record<string, Table> = {};
for (const [table, spec] of Object.entries(model).sort(([a], [b]) => (a < b ? -1 : 1))) {
  const columns: Record<string, Column> = {};
  const unique: Unique[] = [];
  const foreignKeys: ForeignKey[] = [];
  const checks: Check[] = [];
  let primaryKey: string[] | undefined;
  for (const [column, c] of Object.entries(spec.columns).sort(([a], [b]) => (a < b ? -1 : 1))) {
    // auto-created M2M tables take the project's DEFAULT_AUTO_FIELD: BigAutoField (lamindb_setup)
    const type = c.type === "bigint/integer (auto)" ? "bigint" : c.type;
    columns[column] = {
      type,
      nullable: c.null,
      default: c.pk ? null : dbDefault(c.db_default),
      identity: Boolean(c.pk), // Django 4.1+ makes AutoFields identity columns
      // what Django writes when a value is not given (not a database default)
      ...(pythonLiteral(c.py_default) ? { pythonDefault: dbDefault(c.py_default) ?? "" } : {}),
    };
    if (c.pk) primaryKey = [column];
    if (c.unique) unique.push({ name: `${table}_${column}_key`, columns: [column] });
    if (c.fk) {
      const target = tableOf(c.fk);
      // Django deletes in Python: on_delete of the model (auto M2M rows go with either end)
      const onDelete = spec.auto_m2m
        ? "CASCADE"
        : /deletion\.([A-Z_]+)/.exec(c.on_delete ?? "")?.[1];
      foreignKeys.push({ column, references: `${target}(id)`, modelOnDelete: onDelete });
    }
  }
  for (const together of spec.unique_together) {
    const cols = together.map((f) => columnOf(spec.columns, f));
    unique.push({ name: djangoIndexName(table, cols, "_uniq"), columns: cols });
  }
  for (const text of spec.constraints) {
    const parsed = parseConstraint(table, spec.columns, text);
    if (parsed.unique) unique.push(parsed.unique);
    if (parsed.check) checks.push(parsed.check);
  }
  if (TYPE_CHECKS[table]) {
    const registry = table.replace("lamindb_", "");
    checks.push({ name: `${registry}_type_is_valid_fk`, definition: TYPE_CHECKS[table] });
  }
  const triggers = (TRIGGERS[table] ?? []).map(([name, events]) => ({
    name,
    timing: "BEFORE",
    events,
    function: name,
  }));
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
  tables[table] = {
    columns,
    primaryKey,
    unique: unique.sort(byName),
    foreignKeys: foreignKeys.sort((a, b) => (a.column < b.column ? -1 : 1)),
    checks: checks.sort(byName),
    triggers: triggers.sort(byName),
  };
}

const fixture = {
  source: {
    lamindb: "760fdf9163d1 (0193_squashed; tables equal to tag 2.9.1 fa34c885)",
    bionty: "18e0b60c (0065_squashed)",
    derivedBy: "scripts/lamindb-fixture.ts from lamindb-2.9-schema.json",
  },
  tables,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
console.log(`wrote ${Object.keys(tables).length} tables to ${out}`);
