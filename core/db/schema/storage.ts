/** Storage locations: a local folder or a bucket prefix that holds an instance's files. */
import { pgTable, text, varchar } from "drizzle-orm/pg-core";
import { autoId, sqlRecord, tracked, uid, uniqueField } from "./columns.js";

export const storage = pgTable("lamindb_storage", {
  id: autoId(),
  uid: uid("lamindb_storage", 12),
  root: varchar("root", { length: 255 }).notNull().unique(uniqueField("lamindb_storage", "root")),
  description: text("description"),
  type: varchar("type", { length: 30 }).notNull(),
  region: varchar("region", { length: 64 }),
  instanceUid: varchar("instance_uid", { length: 12 }),
  ...tracked(),
  ...sqlRecord(),
});
