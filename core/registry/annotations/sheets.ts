/**
 * Sheets: LaminDB's record types with a schema (`Record(name=..., is_type=True, schema=...)`).
 * The records of such a type are the rows of the sheet, and their feature values must fit the
 * schema (`FeatureManager.add_values` validates them with the type's schema): only features of
 * the schema, and every required one when the schema is a minimal set (optional members are
 * LaminDB's `_aux.af["1"]`). The schema's index feature (`_aux.af["3"]`, dtype str) is the row's
 * key: its value is the record's name, not a stored value.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.js";

export interface SheetMember {
  id: number;
  uid: string;
  name: string;
  dtype: string | null;
  optional: boolean;
}

export interface Sheet {
  type: { id: number; uid: string; name: string | null };
  schema: { id: number; uid: string; name: string | null; minimalSet: boolean };
  /** The schema's features, in schema order. */
  members: SheetMember[];
  /** The index feature, whose value is the record's name. */
  index: SheetMember | undefined;
}

type Runner = Pick<Db, "execute">;

interface SheetRow {
  type_id: number;
  type_uid: string;
  type_name: string | null;
  schema_id: number;
  schema_uid: string;
  schema_name: string | null;
  minimal_set: boolean;
  aux: unknown;
}

/** LaminDB's `_aux.af` of a schema: optional feature uids ("1") and the index uid ("3"). */
function auxFeatures(aux: unknown): { optional: Set<string>; index: string | undefined } {
  const parsed = typeof aux === "string" ? (JSON.parse(aux) as unknown) : aux;
  const af = (parsed as { af?: Record<string, unknown> } | null)?.af;
  const optional = Array.isArray(af?.["1"]) ? (af["1"] as unknown[]).map(String) : [];
  const index = typeof af?.["3"] === "string" ? (af["3"] as string) : undefined;
  return { optional: new Set(optional), index };
}

/** The sheet a record is a row of: its type, when the type has a schema. */
export async function sheetOfRecord(db: Runner, recordId: number): Promise<Sheet | undefined> {
  return sheet(db, sql`r.id = ${recordId}`, sql`JOIN lamindb_record ty ON ty.id = r.type_id`);
}

/** The sheet a record type is, when it has a schema. */
export async function sheetOfType(db: Runner, typeId: number): Promise<Sheet | undefined> {
  return sheet(db, sql`r.id = ${typeId}`, sql`JOIN lamindb_record ty ON ty.id = r.id`);
}

async function sheet(
  db: Runner,
  where: ReturnType<typeof sql>,
  typeJoin: ReturnType<typeof sql>,
): Promise<Sheet | undefined> {
  const [row] = await queryRows<SheetRow>(
    db as Db,
    sql`SELECT ty.id AS type_id, ty.uid AS type_uid, ty.name AS type_name, s.id AS schema_id,
        s.uid AS schema_uid, s.name AS schema_name, s.minimal_set, s._aux AS aux
      FROM lamindb_record r ${typeJoin} JOIN lamindb_schema s ON s.id = ty.schema_id
      WHERE ${where}`,
  );
  if (!row) return undefined;
  const members = await queryRows<Omit<SheetMember, "optional">>(
    db as Db,
    sql`SELECT f.id, f.uid, f.name, f._dtype_str AS dtype FROM lamindb_schemafeature l
      JOIN lamindb_feature f ON f.id = l.feature_id WHERE l.schema_id = ${row.schema_id}
      ORDER BY l.id`,
  );
  const { optional, index } = auxFeatures(row.aux);
  const all = members.map((m) => ({ ...m, id: Number(m.id), optional: optional.has(m.uid) }));
  return {
    type: { id: Number(row.type_id), uid: row.type_uid, name: row.type_name },
    schema: {
      id: Number(row.schema_id),
      uid: row.schema_uid,
      name: row.schema_name,
      minimalSet: row.minimal_set,
    },
    members: all,
    index: index === undefined ? undefined : all.find((m) => m.uid === index),
  };
}

/** How a sheet is named in messages: `'Samples'` or its uid. */
export const sheetName = (s: Sheet) => `'${s.type.name ?? s.type.uid}'`;
