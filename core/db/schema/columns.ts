/**
 * The column groups LaminDB's registries share (its Django mixins) and the table shapes that
 * repeat (links, blocks, record values), for the core schema (this folder) and every module's
 * schema (e.g. modules/bionty/schema.ts).
 *
 * This file imports no table file (they all import it, and must find it evaluated): the tables
 * the shared columns point to are handed over by schema.ts ({@link bindCoreTargets}), and every
 * foreign key resolves lazily.
 *
 * Names follow what Django 5.2 makes for LaminDB on Postgres, so that Python LaminDB (and its
 * future migrations, which look constraints up by name or by columns) finds what it expects:
 * `<table>_<column>_key` for a unique field, {@link djangoIndexName} for `unique_together`, the
 * model's own name for a `UniqueConstraint`. Auto-increment keys are identity columns.
 */
import { createHash } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  type PgColumn,
  type PgColumnBuilderBase,
  pgTable,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";

/** The tables every registry's shared columns point to. */
export interface CoreTargets {
  user: { id: AnyPgColumn };
  branch: { id: AnyPgColumn };
  space: { id: AnyPgColumn };
  run: { id: AnyPgColumn };
  feature: { id: AnyPgColumn };
  artifact: { id: AnyPgColumn };
  record: { id: AnyPgColumn };
}

const targets: Partial<CoreTargets> = {};

/**
 * Hand over the tables of {@link CoreTargets} (schema.ts does, once they all exist). This file
 * imports no table file: they all import it and must find it evaluated. Foreign keys resolve
 * when drizzle first reads a table's config, after that.
 */
export function bindCoreTargets(tables: CoreTargets): void {
  Object.assign(targets, tables);
}

function target(name: keyof CoreTargets): () => AnyPgColumn {
  return () => {
    const table = targets[name];
    if (!table) throw new Error(`load core/db/schema.js first: no ${name} table to point to`);
    return table.id;
  };
}

/**
 * Django's `_create_index_name` on Postgres: `<table>_<columns>_<md5 digest><suffix>`, shortened
 * to 63 characters the way Django does. `unique_together` constraints are named with `_uniq`.
 */
export function djangoIndexName(table: string, columns: string[], suffix: string): string {
  const digest = createHash("md5");
  for (const part of [table, ...columns]) digest.update(part);
  let hashSuffix = `${digest.digest("hex").slice(0, 8)}${suffix}`;
  const max = 63;
  const full = `${table}_${columns.join("_")}_${hashSuffix}`;
  if (full.length <= max) return full;
  if (hashSuffix.length > max / 3) hashSuffix = hashSuffix.slice(0, Math.floor(max / 3));
  const other = Math.floor((max - hashSuffix.length) / 2) - 1;
  return `${table.slice(0, other)}_${columns.join("_").slice(0, other)}_${hashSuffix}`;
}

/** A `unique_together` of a Django model: a UNIQUE constraint named as Django names it. */
export function uniqueTogether(table: string, first: PgColumn, ...rest: PgColumn[]) {
  const columns = [first, ...rest];
  return unique(
    djangoIndexName(
      table,
      columns.map((c) => c.name),
      "_uniq",
    ),
  ).on(first, ...rest);
}

/** A unique field (`unique=True`): Postgres names the inline constraint `<table>_<col>_key`. */
export function uniqueField(table: string, column: string) {
  return `${table}_${column}_key`;
}

/** Django's AutoField, BigAutoField and SmallAutoField on Postgres: identity primary keys. */
export function autoId() {
  return integer("id").primaryKey().generatedByDefaultAsIdentity();
}
export function bigAutoId() {
  return bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity();
}
export function smallAutoId() {
  return smallint("id").primaryKey().generatedByDefaultAsIdentity();
}

/** `uid` of a registry: unique, fixed length per registry. */
export function uid(table: string, length: number) {
  return varchar("uid", { length }).notNull().unique(uniqueField(table, "uid"));
}

/** Django's `db_default=Now()` on Postgres: the time of the statement, not of the transaction. */
export function dbNow(): SQL {
  return sql`statement_timestamp()`;
}

export function createdAt() {
  return timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().default(dbNow());
}
export function updatedAt() {
  return timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().default(dbNow());
}
export function createdById() {
  return integer("created_by_id").notNull().references(target("user"));
}
export function runId() {
  return bigint("run_id", { mode: "number" }).references(target("run"));
}
export function featureId() {
  return integer("feature_id").references(target("feature"));
}

/** Columns every SQLRecord carries (LaminDB's `SQLRecord` mixin). */
export function sqlRecord() {
  return {
    branchId: integer("branch_id").notNull().default(1).references(target("branch")),
    createdOnId: integer("created_on_id").notNull().default(1).references(target("branch")),
    spaceId: smallint("space_id").notNull().default(1).references(target("space")),
    isLocked: boolean("is_locked").notNull().default(false),
    aux: jsonb("_aux").$type<Record<string, unknown>>(),
  };
}

/** Who made a row and when (`TracksRun` + `TracksUpdates`). */
export function tracked() {
  return {
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    createdById: createdById(),
    runId: runId(),
  };
}

/** `IsVersioned`: uid suffix is the version, `is_latest` marks the head of a family. */
export function versioned() {
  return {
    versionTag: varchar("version_tag", { length: 30 }),
    isLatest: boolean("is_latest").notNull().default(true),
  };
}

/** `HasType`: rows can be types of other rows of the same registry. */
export function typed(self: () => AnyPgColumn) {
  return {
    isType: boolean("is_type").notNull().default(false),
    typeId: integer("type_id").references(self),
  };
}

/** Link rows (`IsLink` + `TracksRun`) carry a nullable `feature_id`: which feature a value is for. */
export function linkColumns() {
  return {
    id: bigAutoId(),
    featureId: featureId(),
    createdAt: createdAt(),
    createdById: createdById(),
    runId: runId(),
  };
}

/** Link rows of runs: the run is the owner (`run_id`), so no "created by run" column. */
export function runLinkColumns() {
  return {
    id: bigAutoId(),
    runId: bigint("run_id", { mode: "number" })
      .notNull()
      .references(target("run"), { onDelete: "cascade" }),
    createdAt: createdAt(),
    createdById: createdById(),
  };
}

/**
 * How a link table is unique, as its LaminDB model says:
 * - `partial`: two `UniqueConstraint`s named `unique_<model>` (owner, label, feature) where a
 *   feature is set, and `unique_<model>_null_feature` (owner, label) where it is not;
 * - `together`: `unique_together` (owner, label, feature), NULL features distinct (bionty);
 * - `featureless`: our own `_with_feature` / `_without_feature` pair on a table whose LaminDB
 *   model has no feature (run links; see test/parity/schema.test.ts).
 */
export type LinkUniqueness = "partial" | "together" | "featureless";

/**
 * A link between an owner (an artifact, a run, a collection, a transform) and a label (ULabel,
 * Record, Project, a module's entity) with the feature the label is a value of, NULL when linked
 * without one; indexed by label ("which artifacts have this label"). `extra`: more columns.
 */
export function labelLinks(
  name: string,
  owner: "artifact" | "run",
  label: { column: string; references: () => AnyPgColumn },
  uniqueness: LinkUniqueness,
  extra: Record<string, PgColumnBuilderBase> = {},
) {
  const { runId: ownRun, ...runLink } = runLinkColumns();
  const ownerColumns =
    owner === "artifact"
      ? {
          ...linkColumns(),
          ownerId: integer("artifact_id")
            .notNull()
            .references(target("artifact"), { onDelete: "cascade" }),
        }
      : { ...runLink, ownerId: ownRun, featureId: featureId() };
  const labelId = integer(label.column).notNull().references(label.references);
  const model = name.replace(/^[a-z]+_/, "");
  return pgTable(name, { ...ownerColumns, labelId, ...extra }, (t) => [
    ...linkUniques(name, model, uniqueness, t.ownerId, t.labelId, t.featureId),
    index(`${name}_${label.column.replace(/_id$/, "")}`).on(t.labelId, t.ownerId),
  ]);
}

/** The unique constraints of a link table (see {@link LinkUniqueness}), in LaminDB's order. */
export function linkUniques(
  table: string,
  model: string,
  uniqueness: LinkUniqueness,
  a: PgColumn,
  b: PgColumn,
  feature: PgColumn,
  order: "feature-last" | "feature-middle" = "feature-last",
) {
  if (uniqueness === "together") return [uniqueTogether(table, a, b, feature)];
  const [withFeature, withoutFeature] =
    uniqueness === "partial"
      ? [`unique_${model}`, `unique_${model}_null_feature`]
      : [`${table}_with_feature`, `${table}_without_feature`];
  const three = order === "feature-last" ? ([a, b, feature] as const) : ([a, feature, b] as const);
  return [
    uniqueIndex(withFeature)
      .on(...three)
      .where(sql`${feature} IS NOT NULL`),
    uniqueIndex(withoutFeature).on(a, b).where(sql`${feature} IS NULL`),
  ];
}

/** One end of a link table: its column, what it points to, and whether deleting that cascades. */
export interface LinkEnd {
  column: string;
  references: () => AnyPgColumn;
  /** The column is a bigint (it points to a run or a block). */
  bigint?: boolean;
  /** Deleting the row pointed to deletes the link (LaminDB's CASCADE, here in the database). */
  cascade?: boolean;
}

const endInteger = (column: string) => integer(column).notNull();

function endColumn(end: LinkEnd): PgColumnBuilderBase {
  const onDelete = end.cascade ? { onDelete: "cascade" as const } : {};
  return end.bigint
    ? bigint(end.column, { mode: "number" }).notNull().references(end.references, onDelete)
    : integer(end.column).notNull().references(end.references, onDelete);
}

export interface LinkOptions {
  /** A nullable `feature_id`: which feature the label is a value of. */
  feature?: boolean;
  /** `created_at` + `created_by_id` (`user`), and the run that made the link too (`run`). */
  tracking: "run" | "user" | "none";
  /** How the link is unique: see {@link LinkUniqueness}; `pair` is `unique_together(a, b)`. */
  unique: LinkUniqueness | "pair";
  /** The feature column sits between the two ends in LaminDB's constraint (`projectrecord`). */
  featureMiddle?: boolean;
  extra?: Record<string, PgColumnBuilderBase>;
}

/**
 * A LaminDB link model between two registries (`ArtifactReference`, `TransformProject`, ...):
 * `owner_id` (the first end of its unique constraint) and `label_id`, as TypeScript `ownerId`
 * and `labelId`, with the columns and uniqueness `opts` say, indexed by label.
 */
export function link(table: string, owner: LinkEnd, label: LinkEnd, opts: LinkOptions) {
  // the ends are typed as integers (a bigint end holds the same numbers); the rest by name
  const optional: Record<string, PgColumnBuilderBase> = {
    ...(opts.feature ? { featureId: featureId() } : {}),
    ...(opts.tracking !== "none" ? { createdAt: createdAt(), createdById: createdById() } : {}),
    ...(opts.tracking === "run" ? { runId: runId() } : {}),
    ...opts.extra,
  };
  const ends = {
    id: bigAutoId(),
    ownerId: endColumn(owner) as ReturnType<typeof endInteger>,
    labelId: endColumn(label) as ReturnType<typeof endInteger>,
  };
  const columns = { ...ends, ...optional } as typeof ends & Record<string, PgColumnBuilderBase>;
  return pgTable(table, columns, (t) => {
    const col = (key: string) => t[key] as PgColumn;
    const uniques =
      opts.unique === "pair"
        ? [uniqueTogether(table, col("ownerId"), col("labelId"))]
        : linkUniques(
            table,
            table.replace(/^[a-z]+_/, ""),
            opts.unique,
            col("ownerId"),
            col("labelId"),
            col("featureId"),
            opts.featureMiddle ? "feature-middle" : "feature-last",
          );
    return [...uniques, index(`${table}_${label.column.replace(/_id$/, "")}`).on(col("labelId"))];
  });
}

/**
 * Django's automatic many-to-many table `<table>` between two registries (`<model>_parents`,
 * `artifact_input_of_runs`, ...): a big identity key, the two foreign keys (deleting either end
 * deletes the row), unique together, and an index on the second column for reverse lookups.
 */
export function manyToMany(table: string, from: LinkEnd, to: LinkEnd) {
  const fk = (end: LinkEnd) =>
    (end.bigint ? bigint(end.column, { mode: "number" }) : integer(end.column))
      .notNull()
      .references(end.references, { onDelete: "cascade" });
  return pgTable(table, { id: bigAutoId(), fromId: fk(from), toId: fk(to) }, (t) => [
    uniqueTogether(table, t.fromId, t.toId),
    index(`${table}_${to.column.replace(/_id$/, "")}`).on(t.toId),
  ]);
}

/**
 * A block (`lamindb_<owner>block`): versioned markdown (a README, a comment) attached to one
 * record. `owner` is the record's foreign key; `sqlRecord` says whether the block carries
 * `branch_id`/`created_on_id` (all but branch blocks, which belong to their branch).
 */
export function blockTable(
  table: string,
  owner: PgColumnBuilderBase,
  opts: { branch: boolean; extra?: Record<string, PgColumnBuilderBase> },
) {
  const branchColumns: Record<string, PgColumnBuilderBase> = opts.branch
    ? {
        branchId: integer("branch_id").notNull().default(1).references(target("branch")),
        createdOnId: integer("created_on_id").notNull().default(1).references(target("branch")),
      }
    : {};
  const columns: Record<string, PgColumnBuilderBase> = {
    id: bigAutoId(),
    uid: uid(table, 20),
    content: text("content").notNull(),
    hash: varchar("hash", { length: 22 }),
    kind: varchar("kind", { length: 22 }).notNull().default("readme"),
    ...versioned(),
    statusCode: smallint("_status_code").notNull().default(0),
    aux: jsonb("_aux").$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    createdById: createdById(),
    ownerId: owner,
    ...branchColumns,
    ...opts.extra,
  };
  return pgTable(table, columns);
}

/**
 * A value of a record for a feature (`lamindb_record<target>`, LaminDB's `RecordArtifact`,
 * `RecordRecord`, ...): the record, the feature (always set) and the value, unique together.
 */
export function recordValues(
  table: string,
  value: { references: () => AnyPgColumn; bigint?: boolean },
) {
  const valueId = (value.bigint ? bigint("value_id", { mode: "number" }) : integer("value_id"))
    .notNull()
    .references(value.references);
  return pgTable(
    table,
    {
      id: bigAutoId(),
      recordId: integer("record_id")
        .notNull()
        .references(target("record"), { onDelete: "cascade" }),
      featureId: integer("feature_id").notNull().references(target("feature")),
      valueId,
    },
    (t) => [
      uniqueTogether(table, t.recordId, t.featureId, t.valueId),
      index(`${table}_value`).on(t.valueId),
    ],
  );
}
