/**
 * The column groups LaminDB's registries share (its Django mixins), for the core schema
 * (schema.ts) and every module's schema (e.g. modules/bionty/schema.ts). Functions, not
 * columns: each table needs its own column objects. Foreign keys resolve lazily; import these
 * through schema.ts (which re-exports them), so that schema.ts is always evaluated first.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  type PgColumnBuilderBase,
  pgTable,
  smallint,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { artifact, branch, feature, run, space, user } from "./schema.js";

export const createdAt = () =>
  timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
export const createdById = () =>
  integer("created_by_id")
    .notNull()
    .references((): AnyPgColumn => user.id);
export const runId = () =>
  bigint("run_id", { mode: "number" }).references((): AnyPgColumn => run.id);

/** Columns every SQLRecord carries (LaminDB's `SQLRecord` mixin). */
export const sqlRecord = () => ({
  branchId: integer("branch_id")
    .notNull()
    .default(1)
    .references((): AnyPgColumn => branch.id),
  createdOnId: integer("created_on_id")
    .notNull()
    .default(1)
    .references((): AnyPgColumn => branch.id),
  spaceId: smallint("space_id")
    .notNull()
    .default(1)
    .references((): AnyPgColumn => space.id),
  isLocked: boolean("is_locked").notNull().default(false),
  aux: jsonb("_aux").$type<Record<string, unknown>>(),
});

/** Who made a row and when (`TracksRun` + `TracksUpdates`). */
export const tracked = () => ({
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  createdById: createdById(),
  runId: runId(),
});

/** `IsVersioned`: uid suffix is the version, `is_latest` marks the head of a family. */
export const versioned = () => ({
  versionTag: varchar("version_tag", { length: 30 }),
  isLatest: boolean("is_latest").notNull().default(true),
});

/** `HasType`: rows can be types of other rows of the same registry. */
export const typed = (self: () => AnyPgColumn) => ({
  isType: boolean("is_type").notNull().default(false),
  typeId: integer("type_id").references(self),
});

/** Link rows (`IsLink` + `TracksRun`) carry a nullable `feature_id`: which feature a value is for. */
export const linkColumns = () => ({
  id: bigserial("id", { mode: "number" }).primaryKey(),
  featureId: integer("feature_id").references((): AnyPgColumn => feature.id),
  createdAt: createdAt(),
  createdById: createdById(),
  runId: runId(),
});

/** Link rows of runs: the run is the owner (`run_id`), so no "created by run" column. */
export const runLinkColumns = () => ({
  id: bigserial("id", { mode: "number" }).primaryKey(),
  runId: bigint("run_id", { mode: "number" })
    .notNull()
    .references((): AnyPgColumn => run.id, { onDelete: "cascade" }),
  createdAt: createdAt(),
  createdById: createdById(),
});

/**
 * A link between an owner (an artifact or a run) and a label (ULabel, Record, Project, a module's
 * entity) with the feature the label is a value of, NULL when linked without one: unique per
 * (owner, label, feature) and per (owner, label) without a feature, and indexed by label ("which
 * artifacts have this label"). `extra`: more columns (bionty's `*_ref_is_name`).
 */
export function labelLinks(
  name: string,
  owner: "artifact" | "run",
  label: { column: string; references: () => AnyPgColumn },
  extra: Record<string, PgColumnBuilderBase> = {},
) {
  const { runId: ownRun, ...runLink } = runLinkColumns();
  const ownerColumns =
    owner === "artifact"
      ? {
          ...linkColumns(),
          ownerId: integer("artifact_id")
            .notNull()
            .references((): AnyPgColumn => artifact.id, { onDelete: "cascade" }),
        }
      : {
          ...runLink,
          ownerId: ownRun,
          featureId: integer("feature_id").references((): AnyPgColumn => feature.id),
        };
  const labelId = integer(label.column).notNull().references(label.references);
  return pgTable(name, { ...ownerColumns, labelId, ...extra }, (t) => [
    uniqueIndex(`${name}_with_feature`)
      .on(t.ownerId, t.labelId, t.featureId)
      .where(sql`${t.featureId} IS NOT NULL`),
    uniqueIndex(`${name}_without_feature`)
      .on(t.ownerId, t.labelId)
      .where(sql`${t.featureId} IS NULL`),
    index(`${name}_${label.column.replace(/_id$/, "")}`).on(t.labelId, t.ownerId),
  ]);
}
