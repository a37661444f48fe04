/** What a module is: extra registries with their own schema, migrations and seed data. */
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Db } from "../db/client.js";
import type { MigrationSet } from "../db/migrate.js";

/** A registry of a module, e.g. `bionty.CellType` on table `bionty_celltype`. */
export interface ModuleRegistry {
  /** LaminDB's model name, e.g. `CellType`. */
  name: string;
  table: PgTable;
  /** Fields (LaminDB's snake_case names) that values can be looked up by, with their columns. */
  fields: Record<string, PgColumn>;
  /** The field a bare `cat[bionty.CellType]` means and search ranks by: `name` or `symbol`. */
  nameField: string;
  /** The identifier the uid derives from: `ontology_id`, `ensembl_gene_id`, `uniprotkb_id`. */
  idField: string;
  /** `bionty_<entity>_parents`, when the registry is a hierarchy. */
  parents?: { table: PgTable; fromId: PgColumn; toId: PgColumn };
  /** How artifacts link to its records (LaminDB's `bionty_artifact<entity>`), if they can. */
  artifactLink?: LinkTable;
  /** How records hold its records as values (LaminDB's `bionty_record<entity>`), if they can. */
  recordLink?: LinkTable;
}

/**
 * A link table `(artifact_id, <entity>_id, feature_id, created_by_id, run_id, ...)` or
 * `(record_id, value_id, feature_id, ...)`, by name: the core writes annotation SQL from this
 * description without importing module tables.
 */
export interface LinkTable {
  /** e.g. `bionty_artifactcelltype` */
  table: string;
  /** The column naming the module record, e.g. `celltype_id`. */
  entityColumn: string;
}

export interface SeedReport {
  /** Rows inserted per registry (existing ones are kept as they are). */
  inserted: Record<string, number>;
  parents: number;
}

export interface LaminModule {
  name: string;
  description: string;
  /** drizzle-kit config of the module's schema, relative to a checkout of this repository. */
  drizzleConfig: string;
  registries: ModuleRegistry[];
  /** Its migrations, from `root` (default: the package's migrations/ folder). */
  migrations(root?: string): MigrationSet;
  /** Insert the module's bundled data; idempotent. `userId` becomes `created_by_id`. */
  seed(db: Db, userId: number): Promise<SeedReport>;
}
