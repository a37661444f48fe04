/** lamindb-serverless's own tables, namespaced `lns_` so that LaminDB's never collide with them. */
import {
  boolean,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  varchar,
} from "drizzle-orm/pg-core";
import { artifact } from "./artifacts.js";
import { storage } from "./storage.js";

/**
 * The last storage event applied to each object key. Storage events arrive late, twice or out
 * of order; comparing their S3 `sequencer` (or GCS generation) with the one kept here makes
 * every event apply at most once and never roll an object back.
 */
export const storageObject = pgTable(
  "lns_storage_object",
  {
    storageId: integer("storage_id")
      .notNull()
      .references(() => storage.id, { onDelete: "cascade" }),
    /** Storage-relative object key. */
    key: text("key").notNull(),
    /**
     * Ordering token of the last event: S3's sequencer normalised (upper-case hex, right-padded
     * with zeros), or GCS's generation and metageneration (39 decimal digits, events.ts).
     */
    sequencer: varchar("sequencer", { length: 128 }).notNull(),
    etag: varchar("etag", { length: 128 }),
    deleted: boolean("deleted").notNull().default(false),
    artifactId: integer("artifact_id").references(() => artifact.id, { onDelete: "set null" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.storageId, t.key] })],
);
