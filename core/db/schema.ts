/**
 * LaminDB's schema (lamindb 2.9, as its migrations make it on Postgres) as drizzle code, one file
 * per area in schema/. Table and column names are LaminDB's (`lamindb_artifact`, `_hash_type`,
 * `branch_id`, ...) so that Python LaminDB opens the same database and SQL written for LaminDB
 * reads the same here; TypeScript property names are camelCase.
 *
 * Migrations in `migrations/instance/` are generated from this file with `npm run migrate:generate`;
 * test/parity/schema.test.ts compares what they make with LaminDB's schema.
 */
export * from "./schema/accounts.js";
export * from "./schema/artifacts.js";
export * from "./schema/blocks.js";
export * from "./schema/collections.js";
// Modules build their tables from the same column groups.
export { labelLinks, link, manyToMany, sqlRecord, tracked } from "./schema/columns.js";
export * from "./schema/features.js";
export * from "./schema/lns.js";
export * from "./schema/projects.js";
export * from "./schema/records.js";
export * from "./schema/storage.js";
export * from "./schema/transforms.js";

import { branch, space, user } from "./schema/accounts.js";
import { artifact } from "./schema/artifacts.js";
import { bindCoreTargets } from "./schema/columns.js";
import { feature } from "./schema/features.js";
import type { storageObject } from "./schema/lns.js";
import { record } from "./schema/records.js";
import type { storage } from "./schema/storage.js";
import { run } from "./schema/transforms.js";

bindCoreTargets({ user, branch, space, run, feature, artifact, record });

export type ArtifactRow = typeof artifact.$inferSelect;
export type StorageRow = typeof storage.$inferSelect;
export type StorageObjectRow = typeof storageObject.$inferSelect;
export type UserRow = typeof user.$inferSelect;
