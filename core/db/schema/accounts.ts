/** Who and where: users, spaces (access groups) and branches (main, archive, trash, drafts). */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import {
  autoId,
  bigAutoId,
  createdAt,
  createdById,
  smallAutoId,
  uid,
  uniqueField,
  uniqueTogether,
  updatedAt,
} from "./columns.js";

export const user = pgTable("lamindb_user", {
  id: autoId(),
  uid: uid("lamindb_user", 8),
  handle: varchar("handle", { length: 30 }).notNull().unique(uniqueField("lamindb_user", "handle")),
  name: varchar("name", { length: 150 }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const space = pgTable(
  "lamindb_space",
  {
    id: smallAutoId(),
    uid: uid("lamindb_space", 12),
    name: varchar("name", { length: 100 }).notNull(),
    description: text("description"),
    createdAt: createdAt(),
    createdById: integer("created_by_id").references((): AnyPgColumn => user.id),
  },
  // LaminDB: space names are unique whatever their case
  (t) => [uniqueIndex("unique_space_name_lower").on(sql`lower(${t.name})`)],
);

export const branch = pgTable(
  "lamindb_branch",
  {
    id: autoId(),
    uid: uid("lamindb_branch", 12),
    name: varchar("name", { length: 100 }).notNull(),
    description: text("description"),
    spaceId: smallint("space_id")
      .notNull()
      .default(1)
      .references((): AnyPgColumn => space.id),
    statusCode: smallint("_status_code").notNull().default(0),
    aux: jsonb("_aux").$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    createdById: createdById(),
  },
  // LaminDB: `main` and `Main` are the same branch name
  (t) => [uniqueIndex("unique_branch_name_lower").on(sql`lower(${t.name})`)],
);

/** A user's role on a branch (LaminDB's `BranchUser`). */
export const branchUser = pgTable(
  "lamindb_branchuser",
  {
    id: bigAutoId(),
    branchId: integer("branch_id")
      .notNull()
      .references((): AnyPgColumn => branch.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references((): AnyPgColumn => user.id),
    role: varchar("role", { length: 32 }).notNull(),
  },
  (t) => [uniqueTogether("lamindb_branchuser", t.branchId, t.userId, t.role)],
);
