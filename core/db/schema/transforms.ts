/** Transforms (scripts, notebooks, pipelines), their runs, and which transform feeds which. */
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  varchar,
} from "drizzle-orm/pg-core";
import { artifact } from "./artifacts.js";
import {
  autoId,
  bigAutoId,
  createdAt,
  createdById,
  dbNow,
  link,
  sqlRecord,
  tracked,
  uid,
  uniqueTogether,
  updatedAt,
  versioned,
} from "./columns.js";

export const transform = pgTable(
  "lamindb_transform",
  {
    id: autoId(),
    uid: uid("lamindb_transform", 16),
    key: varchar("key", { length: 1024 }).notNull(),
    description: text("description"),
    kind: varchar("kind", { length: 20 }).notNull().default("pipeline"),
    sourceCode: text("source_code"),
    hash: varchar("hash", { length: 22 }),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    environmentId: integer("environment_id").references((): AnyPgColumn => artifact.id, {
      onDelete: "cascade",
    }),
    /** The plan (an artifact) this transform follows. */
    planId: integer("plan_id").references((): AnyPgColumn => artifact.id, {
      onDelete: "cascade",
    }),
    ...versioned(),
    ...tracked(),
    ...sqlRecord(),
  },
  (t) => [
    uniqueTogether("lamindb_transform", t.key, t.hash),
    index("lamindb_transform_key").on(t.key),
  ],
);

export const run = pgTable(
  "lamindb_run",
  {
    id: bigAutoId(),
    uid: uid("lamindb_run", 20),
    name: varchar("name", { length: 150 }),
    description: text("description"),
    entrypoint: varchar("entrypoint", { length: 255 }),
    transformId: integer("transform_id")
      .notNull()
      .references((): AnyPgColumn => transform.id, { onDelete: "cascade" }),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" })
      .notNull()
      .default(dbNow()),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    params: jsonb("params"),
    extraData: jsonb("extra_data"),
    reference: varchar("reference", { length: 255 }),
    referenceType: varchar("reference_type", { length: 25 }),
    cliArgs: varchar("cli_args", { length: 1024 }),
    reportId: integer("report_id").references((): AnyPgColumn => artifact.id),
    environmentId: integer("environment_id").references((): AnyPgColumn => artifact.id),
    /** The plan (an artifact) this run follows. */
    planId: integer("plan_id").references((): AnyPgColumn => artifact.id),
    initiatedByRunId: bigint("initiated_by_run_id", { mode: "number" }).references(
      (): AnyPgColumn => run.id,
      { onDelete: "cascade" },
    ),
    isConsecutive: boolean("_is_consecutive"),
    statusCode: smallint("_status_code").notNull().default(-3),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    createdById: createdById(),
    ...sqlRecord(),
  },
  (t) => [index("lamindb_run_transform").on(t.transformId)],
);

/** Which transform feeds which (`Transform.predecessors`): owner = successor, label = predecessor. */
export const transformTransform = link(
  "lamindb_transformtransform",
  { column: "successor_id", references: (): AnyPgColumn => transform.id, cascade: true },
  { column: "predecessor_id", references: (): AnyPgColumn => transform.id, cascade: true },
  { tracking: "run", unique: "pair", extra: { config: jsonb("config") } },
);
