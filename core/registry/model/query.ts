/**
 * The filter language shared by the SDK, the CLI and the HTTP API: Django-style lookups
 * (`key__startswith=raw/`, `size__gt=1000`, `created_at__gte=2026-01-01`). Fields and operators
 * come from a whitelist per registry; values are typed and bound as parameters, never spliced.
 */
import { type Column, type SQL, sql } from "drizzle-orm";
import { ValidationError } from "../../errors.js";

export type FieldType = "string" | "integer" | "boolean" | "date";

export interface FieldDef {
  column: Column | SQL;
  type: FieldType;
}

export type FieldMap = Record<string, FieldDef>;

export const OPERATORS = [
  "exact",
  "iexact",
  "contains",
  "icontains",
  "startswith",
  "endswith",
  "in",
  "gt",
  "gte",
  "lt",
  "lte",
  "isnull",
] as const;
export type Operator = (typeof OPERATORS)[number];

const STRING_ONLY: ReadonlySet<Operator> = new Set([
  "iexact",
  "contains",
  "icontains",
  "startswith",
  "endswith",
]);
const ORDERED: ReadonlySet<Operator> = new Set(["gt", "gte", "lt", "lte"]);

/** A filter: lookups to values, e.g. `{ "key__startswith": "raw/", "size__gt": 1000 }`. */
export type Filter = Record<string, unknown>;

export interface ParsedLookup {
  field: string;
  op: Operator;
}

export function parseLookup(lookup: string, fields: FieldMap, registry: string): ParsedLookup {
  const parts = lookup.split("__");
  const last = parts.at(-1) as Operator;
  const hasOp = parts.length > 1 && (OPERATORS as readonly string[]).includes(last);
  const field = hasOp ? parts.slice(0, -1).join("__") : lookup;
  const op: Operator = hasOp ? last : "exact";
  if (!Object.hasOwn(fields, field)) {
    const prefix = parts.slice(0, -1).join("__");
    if (!hasOp && parts.length > 1 && Object.hasOwn(fields, prefix)) {
      throw new ValidationError(
        `unknown operator '${parts.at(-1)}' in filter '${lookup}' for ${registry}`,
        `operators: ${OPERATORS.join(", ")} (e.g. ${prefix}__in=a,b)`,
      );
    }
    throw new ValidationError(
      `unknown field '${field}' in filter '${lookup}' for ${registry}`,
      `filterable fields: ${Object.keys(fields).join(", ")}`,
    );
  }
  const def = fields[field] as FieldDef;
  if (STRING_ONLY.has(op) && def.type !== "string") {
    throw new ValidationError(
      `operator '${op}' does not apply to ${def.type} field '${field}'`,
      "use exact, in, gt, gte, lt, lte or isnull",
    );
  }
  if (ORDERED.has(op) && def.type === "boolean") {
    throw new ValidationError(
      `operator '${op}' does not apply to boolean field '${field}'`,
      `use ${field}=true or ${field}=false`,
    );
  }
  return { field, op };
}

/** Parse `field__op=value` strings as typed on a command line. */
export function parseFilterArgs(args: readonly string[]): Filter {
  const filter: Filter = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      throw new ValidationError(
        `filter '${arg}' is not of the form field=value`,
        "e.g. key__startswith=raw/",
      );
    }
    filter[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return filter;
}

function coerce(value: unknown, type: FieldType, lookup: string): string | number | boolean | Date {
  const bad = (what: string) =>
    new ValidationError(
      `filter '${lookup}' needs ${what}, got ${JSON.stringify(value)}`,
      `give ${lookup} a value of that type`,
    );
  switch (type) {
    case "string":
      if (typeof value === "string") return value;
      if (typeof value === "number") return String(value);
      throw bad("a string");
    case "integer": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n === "number" && Number.isSafeInteger(n)) return n;
      throw bad("an integer");
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "1") return true;
      if (value === "false" || value === "0") return false;
      throw bad("true or false");
    case "date": {
      const d =
        value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
      if (d && !Number.isNaN(d.getTime())) return d;
      throw bad("a date or timestamp (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z)");
    }
  }
}

/** `s` as a literal inside a LIKE pattern. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function buildConditions(fields: FieldMap, filter: Filter, registry: string): SQL[] {
  const out: SQL[] = [];
  for (const [lookup, raw] of Object.entries(filter)) {
    if (raw === undefined) continue;
    const { field, op } = parseLookup(lookup, fields, registry);
    const { column, type } = fields[field] as FieldDef;
    switch (op) {
      case "isnull": {
        const isNull = coerce(raw, "boolean", lookup);
        out.push(isNull ? sql`${column} IS NULL` : sql`${column} IS NOT NULL`);
        break;
      }
      case "in": {
        const items = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : [raw];
        if (items.length === 0) {
          throw new ValidationError(
            `filter '${lookup}' has an empty list`,
            "give at least one value",
          );
        }
        if (items.length > 1000) {
          throw new ValidationError(
            `filter '${lookup}' has more than 1000 values`,
            "split the query",
          );
        }
        const values = items.map((v) => coerce(v, type, lookup));
        out.push(
          sql`${column} IN (${sql.join(
            values.map((v) => sql`${v}`),
            sql`, `,
          )})`,
        );
        break;
      }
      case "exact":
        out.push(
          raw === null ? sql`${column} IS NULL` : sql`${column} = ${coerce(raw, type, lookup)}`,
        );
        break;
      case "iexact":
        out.push(sql`lower(${column}) = lower(${coerce(raw, type, lookup)})`);
        break;
      case "contains":
      case "icontains":
      case "startswith":
      case "endswith": {
        const s = likeEscape(coerce(raw, type, lookup) as string);
        const pattern = op === "startswith" ? `${s}%` : op === "endswith" ? `%${s}` : `%${s}%`;
        out.push(
          op === "icontains" ? sql`${column} ILIKE ${pattern}` : sql`${column} LIKE ${pattern}`,
        );
        break;
      }
      case "gt":
        out.push(sql`${column} > ${coerce(raw, type, lookup)}`);
        break;
      case "gte":
        out.push(sql`${column} >= ${coerce(raw, type, lookup)}`);
        break;
      case "lt":
        out.push(sql`${column} < ${coerce(raw, type, lookup)}`);
        break;
      case "lte":
        out.push(sql`${column} <= ${coerce(raw, type, lookup)}`);
        break;
    }
  }
  return out;
}

/** Whether a filter names one of `fields` (with any operator). */
export function mentions(filter: Filter, fields: readonly string[]): boolean {
  return Object.keys(filter).some((lookup) => {
    const base = lookup.split("__")[0] ?? "";
    return fields.includes(base) || fields.includes(lookup.replace(/__[a-z]+$/, ""));
  });
}
