/**
 * The hub's own database (the control plane of one deployment), separate from every instance
 * database: accounts, organisations, API keys, instances and who may reach them.
 *
 * Migrations in `migrations/hub/` are generated from this file with `npm run migrate:generate:hub`.
 */
import {
  char,
  integer,
  pgTable,
  primaryKey,
  serial,
  smallint,
  text,
  timestamp,
  unique,
  varchar,
} from "drizzle-orm/pg-core";

const createdAt = () =>
  timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const optionalTime = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export type AccountKind = "user" | "org";
export type MemberRole = "member" | "admin";
export type CollaboratorRole = "read" | "write" | "admin";

/** Users and organisations share one namespace of handles, as on GitHub. */
export const hubAccount = pgTable("hub_account", {
  id: serial("id").primaryKey(),
  uid: varchar("uid", { length: 8 }).notNull().unique(),
  handle: varchar("handle", { length: 30 }).notNull().unique(),
  kind: varchar("kind", { length: 4 }).$type<AccountKind>().notNull().default("user"),
  name: text("name"),
  createdAt: createdAt(),
});

export const hubMembership = pgTable(
  "hub_membership",
  {
    orgId: integer("org_id")
      .notNull()
      .references(() => hubAccount.id, { onDelete: "cascade" }),
    accountId: integer("account_id")
      .notNull()
      .references(() => hubAccount.id, { onDelete: "cascade" }),
    role: varchar("role", { length: 6 }).$type<MemberRole>().notNull().default("member"),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.accountId] })],
);

/** Only the SHA-256 of a key's secret is stored; the prefix is its public name. */
export const hubApiKey = pgTable("hub_api_key", {
  id: serial("id").primaryKey(),
  accountId: integer("account_id")
    .notNull()
    .references(() => hubAccount.id, { onDelete: "cascade" }),
  prefix: varchar("prefix", { length: 12 }).notNull().unique(),
  secretSha256: char("secret_sha256", { length: 64 }).notNull(),
  name: text("name"),
  createdAt: createdAt(),
  expiresAt: optionalTime("expires_at"),
  revokedAt: optionalTime("revoked_at"),
  lastUsedAt: optionalTime("last_used_at"),
});

export const hubInstance = pgTable(
  "hub_instance",
  {
    /** `instanceIdFromSlug("owner/name")`: the id LaminDB derives from the slug. */
    id: varchar("id", { length: 32 }).primaryKey(),
    ownerId: integer("owner_id")
      .notNull()
      .references(() => hubAccount.id),
    name: varchar("name", { length: 30 }).notNull(),
    storageRoot: text("storage_root").notNull(),
    storageEndpoint: text("storage_endpoint"),
    /** Holds credentials: read by the hub's router only, never part of a public shape. */
    dbUrl: text("db_url").notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique("hub_instance_owner_name_unique").on(t.ownerId, t.name)],
);

export const hubCollaborator = pgTable(
  "hub_collaborator",
  {
    instanceId: varchar("instance_id", { length: 32 })
      .notNull()
      .references(() => hubInstance.id, { onDelete: "cascade" }),
    accountId: integer("account_id")
      .notNull()
      .references(() => hubAccount.id, { onDelete: "cascade" }),
    role: varchar("role", { length: 5 }).$type<CollaboratorRole>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.accountId] })],
);

/**
 * A collaborator's role in a restricted space of an instance (`space_id`: the instance's
 * `lamindb_space.id`; space `all` is every collaborator's, by the instance role). See
 * docs/spaces.md.
 */
export const hubSpaceCollaborator = pgTable(
  "hub_space_collaborator",
  {
    instanceId: varchar("instance_id", { length: 32 })
      .notNull()
      .references(() => hubInstance.id, { onDelete: "cascade" }),
    spaceId: smallint("space_id").notNull(),
    accountId: integer("account_id")
      .notNull()
      .references(() => hubAccount.id, { onDelete: "cascade" }),
    role: varchar("role", { length: 5 }).$type<CollaboratorRole>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.spaceId, t.accountId] })],
);
