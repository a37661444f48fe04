/**
 * The registries whose records are values of categorical features (`cat[ULabel]`,
 * `cat[Artifact]`, `cat[Run.uid]`, `list[cat[Record[Sample]]]`, ...) and where an artifact, a run
 * or a record keeps them, as LaminDB's `get_categorical_link_info` decides:
 * - artifacts and runs: `lamindb_<owner><registry>` link tables whose `feature_id` may be NULL
 *   (a label linked without a feature), e.g. `lamindb_artifactuser`, `lamindb_runartifact`;
 * - records: `lamindb_record<registry>` (`value_id`, the feature always set).
 * LaminDB keeps no collection or transform values of artifacts and runs, and no user, run,
 * reference values of runs (it drops the first and fails on the others): here they are refused
 * with a clear error. A run's artifact values are `lamindb_artifactrun` rows (run_id the owner,
 * artifact_id the value), where LaminDB's FeatureManager writes, filters and reads them
 * (`Artifact.runs.through`), not its `lamindb_runartifact`: the table holds an artifact's run
 * values too, told apart by the feature's dtype (`cat[Artifact]` or `cat[Run]`).
 *
 * A value is given by uid (a stem names the latest version of a versioned registry) or by the
 * registry's name field (LaminDB's `_name_field`: `name`, `key`, `handle`), or by the field the
 * dtype names (`cat[Run.uid]`). Trashed records are not values.
 */
import { getTableName, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { type Db, queryRows } from "../../db/client.js";
import * as t from "../../db/schema.js";
import { UID_LENGTHS } from "../../uid.js";
import { TRASH } from "../common/branch.js";

export type Owner = "artifact" | "run" | "record";
export const OWNERS: readonly Owner[] = ["artifact", "run", "record"];

export type CatKind =
  | "ulabel"
  | "record"
  | "project"
  | "reference"
  | "artifact"
  | "run"
  | "user"
  | "collection"
  | "transform";

export interface CatRegistry {
  kind: CatKind;
  /** As in dtypes: `ULabel`. */
  name: string;
  table: string;
  /** The field a bare `cat[Name]` means: matched, and shown when reading values back. */
  field: string;
  /** Fields a dtype may name (`cat[Run.uid]`, `cat[User.handle]`). */
  fields: readonly string[];
  /** `cat[Record[<type>]]`: the registry has types (`is_type`, `type_id`). */
  typed: boolean;
  /** Whether the table has `branch_id` (users have none). */
  branch: boolean;
  /** Versioned registries: a uid of this length is a stem and names the latest version. */
  stem?: number;
  /** Where values come from, for the hint of an error: a command that makes one (typed ones). */
  make: string;
}

const registry = (r: CatRegistry): CatRegistry => r;

/**
 * The categorical registries. Runs are matched and shown by uid: LaminDB's name field for runs
 * is `started_at`, a time nobody types (its own tests use `cat[Run.uid]`).
 */
export const CAT_REGISTRIES: Record<CatKind, CatRegistry> = {
  ulabel: registry({
    kind: "ulabel",
    name: "ULabel",
    table: "lamindb_ulabel",
    field: "name",
    fields: ["name", "uid"],
    typed: true,
    branch: true,
    make: "lamin ulabel create NAME",
  }),
  record: registry({
    kind: "record",
    name: "Record",
    table: "lamindb_record",
    field: "name",
    fields: ["name", "uid"],
    typed: true,
    branch: true,
    make: "lamin record create NAME",
  }),
  project: registry({
    kind: "project",
    name: "Project",
    table: "lamindb_project",
    field: "name",
    fields: ["name", "uid", "abbr"],
    typed: true,
    branch: true,
    make: "lamin project create NAME",
  }),
  reference: registry({
    kind: "reference",
    name: "Reference",
    table: "lamindb_reference",
    field: "name",
    fields: ["name", "uid", "abbr", "doi"],
    typed: true,
    branch: true,
    make: "lamin reference create NAME",
  }),
  artifact: registry({
    kind: "artifact",
    name: "Artifact",
    table: "lamindb_artifact",
    field: "key",
    fields: ["key", "uid"],
    typed: false,
    branch: true,
    stem: UID_LENGTHS.artifact.stem,
    make: "save one with lamin save PATH --key KEY",
  }),
  collection: registry({
    kind: "collection",
    name: "Collection",
    table: "lamindb_collection",
    field: "key",
    fields: ["key", "uid"],
    typed: false,
    branch: true,
    stem: UID_LENGTHS.collection.stem,
    make: "make one with lamin collection create KEY UID...",
  }),
  transform: registry({
    kind: "transform",
    name: "Transform",
    table: "lamindb_transform",
    field: "key",
    fields: ["key", "uid"],
    typed: false,
    branch: true,
    stem: UID_LENGTHS.transform.stem,
    make: "lamin track makes one per script",
  }),
  run: registry({
    kind: "run",
    name: "Run",
    table: "lamindb_run",
    field: "uid",
    fields: ["uid", "name"],
    typed: false,
    branch: true,
    make: "list them with lamin run ls",
  }),
  user: registry({
    kind: "user",
    name: "User",
    table: "lamindb_user",
    field: "handle",
    fields: ["handle", "uid", "name"],
    typed: false,
    branch: false,
    make: "a user of this instance",
  }),
};

const BY_NAME = new Map(Object.values(CAT_REGISTRIES).map((r) => [r.name, r]));

/** The registry a dtype names (`ULabel`), if it is a categorical one. */
export const catRegistry = (name: string): CatRegistry | undefined => BY_NAME.get(name);

/** `a ulabel`, `a user`, `an artifact`. */
export const aNoun = (kind: string) => `${/^[aeio]/.test(kind) ? "an" : "a"} ${kind}`;

// ------------------------------------------------------------------ where values are kept

/** A link table from an owner to a registry's records, as column names for SQL. */
export interface ValueLink {
  table: string;
  /** The column of the owner (`artifact_id`, `run_id`, `record_id`). */
  owner: string;
  /** The column of the value (`ulabel_id`, `value_id`, ...). */
  value: string;
  /** `feature_id` may be NULL: a label linked without a feature (artifacts and runs). */
  featureless: boolean;
  /** The link has `created_by_id`. */
  createdBy: boolean;
  /** The link has a `run_id` of the run that made it (neither its owner nor its value). */
  run: boolean;
}

type LinkTable = PgTable & Record<string, unknown>;

/** A link table described from its drizzle definition. */
function linkOf(table: LinkTable, owner: PgColumn, value: PgColumn): ValueLink {
  const column = (key: string) => table[key] as PgColumn | undefined;
  const feature = column("featureId");
  const run = column("runId");
  return {
    table: getTableName(table),
    owner: owner.name,
    value: value.name,
    featureless: feature !== undefined && !feature.notNull,
    createdBy: column("createdById") !== undefined,
    run: run !== undefined && run !== owner && run !== value,
  };
}

type OwnerLabel = LinkTable & { ownerId: PgColumn; labelId: PgColumn };
const ownerLabel = (table: OwnerLabel) => linkOf(table, table.ownerId, table.labelId);
/** A link table read from its label's side: a run's artifacts in `lamindb_artifactrun`. */
const labelOwner = (table: OwnerLabel) => linkOf(table, table.labelId, table.ownerId);
const recordValue = (table: LinkTable & { recordId: PgColumn; valueId: PgColumn }) =>
  linkOf(table, table.recordId, table.valueId);

/**
 * Where each owner keeps the values of each categorical registry (absent: LaminDB keeps none).
 * One table may serve two owners (`lamindb_artifactrun`): a row belongs to the owner whose
 * value registry the feature's dtype names.
 */
export const VALUE_LINKS: Record<Owner, Partial<Record<CatKind, ValueLink>>> = {
  artifact: {
    ulabel: ownerLabel(t.artifactUlabel as never),
    record: ownerLabel(t.artifactRecord as never),
    project: ownerLabel(t.artifactProject as never),
    reference: ownerLabel(t.artifactReference as never),
    user: ownerLabel(t.artifactUser as never),
    run: ownerLabel(t.artifactRun as never),
    artifact: ownerLabel(t.artifactArtifact as never),
  },
  run: {
    ulabel: ownerLabel(t.runUlabel as never),
    record: ownerLabel(t.runRecord as never),
    project: ownerLabel(t.runProject as never),
    artifact: labelOwner(t.artifactRun as never),
  },
  record: {
    ulabel: recordValue(t.recordUlabel as never),
    record: recordValue(t.recordRecord as never),
    project: recordValue(t.recordProject as never),
    reference: recordValue(t.recordReference as never),
    user: recordValue(t.recordUser as never),
    run: recordValue(t.recordRun as never),
    artifact: recordValue(t.recordArtifact as never),
    collection: recordValue(t.recordCollection as never),
    transform: recordValue(t.recordTransform as never),
  },
};

/** The owner's table. */
export const OWNER_TABLE: Record<Owner, string> = {
  artifact: "lamindb_artifact",
  run: "lamindb_run",
  record: "lamindb_record",
};

/** The registries whose values an owner keeps, as dtypes say them (for hints). */
export const catNamesOf = (owner: Owner) =>
  Object.keys(VALUE_LINKS[owner]).map((k) => `cat[${CAT_REGISTRIES[k as CatKind].name}]`);

// ------------------------------------------------------------------ finding values

/** A categorical dtype's target: the registry, a type it restricts to, the field values are in. */
export interface CatTarget {
  registry: CatRegistry;
  type: string | null;
  field: string;
}

type Runner = Pick<Db, "execute">;
const raw = (identifier: string) => sql.raw(`"${identifier}"`);
const CHUNK = 1000;

/** Rows of the target's type, when it has one (by uid or name of a type). */
function typeFilter(target: CatTarget): SQL {
  const { registry, type } = target;
  if (type === null || !registry.typed) return sql``;
  const table = raw(registry.table);
  return sql` AND type_id IN (SELECT id FROM ${table} WHERE (uid = ${type} OR name = ${type}) AND is_type)`;
}

const live = (registry: CatRegistry) => (registry.branch ? sql` AND branch_id <> ${TRASH}` : sql``);

/**
 * The ids of the live records that `refs` name, by ref: a uid first, then a stem (the latest
 * version), then the target's field (first made wins; for versioned registries the latest).
 * Refs that name nothing are absent from the map.
 */
export async function findValues(
  db: Runner,
  target: CatTarget,
  refs: readonly string[],
): Promise<Map<string, number>> {
  const { registry, field } = target;
  const out = new Map<string, number>();
  const unique = [...new Set(refs)];
  const { stem } = registry;
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    const list = sql.join(
      chunk.map((r) => sql`${r}`),
      sql`, `,
    );
    const stems =
      stem === undefined ? [] : chunk.filter((r) => r.length === stem).map((r) => `${r}%`);
    const byStem = stems.length
      ? sql` OR ${sql.join(
          stems.map((s) => sql`uid LIKE ${s}`),
          sql` OR `,
        )}`
      : sql``;
    const order = stem !== undefined ? sql`is_latest DESC, id DESC` : sql`id`;
    const rows = await queryRows<{ id: number; uid: string; label: string | null }>(
      db as Db,
      sql`SELECT id, uid, ${raw(field)}::text AS label FROM ${raw(registry.table)}
        WHERE (${raw(field)} IN (${list}) OR uid IN (${list})${byStem})${live(registry)}${typeFilter(target)}
        ORDER BY ${order}`,
    );
    for (const ref of chunk) {
      const hit =
        rows.find((r) => r.uid === ref) ??
        (stem !== undefined && ref.length === stem
          ? rows.find((r) => r.uid.startsWith(ref))
          : undefined) ??
        rows.find((r) => r.label === ref);
      if (hit) out.set(ref, Number(hit.id));
    }
  }
  return out;
}

/** Field values of the target's live records (not types), to suggest close matches from. */
export async function valuePool(db: Runner, target: CatTarget): Promise<string[]> {
  const { registry, field } = target;
  const notType = registry.typed ? sql` AND NOT is_type` : sql``;
  const rows = await queryRows<{ label: string }>(
    db as Db,
    sql`SELECT ${raw(field)}::text AS label FROM ${raw(registry.table)}
      WHERE ${raw(field)} IS NOT NULL${live(registry)}${notType}${typeFilter(target)} LIMIT 10000`,
  );
  return rows.map((r) => r.label);
}

/** The dtype of a target as a registry name with its type, e.g. `Record[Samples]`. */
export const targetName = (target: CatTarget) =>
  `${target.registry.name}${target.type ? `[${target.type}]` : ""}`;
