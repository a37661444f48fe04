/**
 * The hub: accounts, organisations, API keys, instances and collaborators of one deployment, kept
 * in a database of its own. No HTTP here: the API and the CLI call these methods and map the
 * errors (core/errors.ts) to their own shapes.
 */
import { and, asc, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { type AnyPgColumn, alias } from "drizzle-orm/pg-core";
import { type Database, type Db, sqlState } from "../db/client.js";
import { keptStatement } from "../db/kept-statements.js";
import { hubMigrations, migrate } from "../db/migrate.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { instanceIdFromSlug, randomBase62 } from "../uid.js";
import { newApiKey, parseApiKey, secretMatches } from "./keys.js";
import {
  validateCollaboratorRole,
  validateHandle,
  validateHubInstanceName,
  validateKind,
  validateMemberRole,
} from "./names.js";
import { type InstanceRole, strongest } from "./roles.js";
import {
  type AccountKind,
  type CollaboratorRole,
  hubAccount,
  hubApiKey,
  hubCollaborator,
  hubInstance,
  hubMembership,
  hubSpaceCollaborator,
  type MemberRole,
} from "./schema.js";
import type { SpaceRole } from "./space-grants.js";
import { AuthThrottle } from "./throttle.js";

export { allows, type InstanceRole } from "./roles.js";

export interface HubAccount {
  id: number;
  uid: string;
  handle: string;
  kind: AccountKind;
  name: string | null;
  created_at: Date;
}

export interface HubKeyInfo {
  id: number;
  prefix: string;
  name: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** Returned by createKey only: the one time the plaintext key exists outside its holder. */
export interface HubNewKey {
  key: string;
  id: number;
  prefix: string;
  name: string | null;
  expires_at: Date | null;
}

/** What clients may see of an instance: no database URL. */
export interface HubInstancePublic {
  id: string;
  owner: string;
  name: string;
  storage_root: string;
  storage_endpoint: string | null;
  created_at: Date;
}

/** The hub's own view, for routing requests: includes the database URL (a secret). */
export interface HubInstanceRecord extends HubInstancePublic {
  owner_id: number;
  db_url: string;
}

/** A refused key: every refusal looks the same, "throttled" only says to slow down. */
export type AuthRefusal = { error: "invalid" | "throttled"; retryAfterSeconds?: number };

export type AuthResult = { account: HubAccount } | AuthRefusal;

/** What a caller may do on one instance, and the instance's record (for the hub's router). */
export interface HubAccess {
  role: InstanceRole;
  instance: HubInstanceRecord;
  spaces: SpaceRole[];
}

/** authenticateFor: the key's account and its access to owner/name (undefined: none, or no such instance). */
export type AuthForResult = { account: HubAccount; access: HubAccess | undefined } | AuthRefusal;

/** last_used_at is bookkeeping: writing it on every request would cost a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const accountColumns = {
  id: hubAccount.id,
  uid: hubAccount.uid,
  handle: hubAccount.handle,
  kind: hubAccount.kind,
  name: hubAccount.name,
  created_at: hubAccount.createdAt,
};

const keyColumns = {
  id: hubApiKey.id,
  prefix: hubApiKey.prefix,
  name: hubApiKey.name,
  created_at: hubApiKey.createdAt,
  expires_at: hubApiKey.expiresAt,
  revoked_at: hubApiKey.revokedAt,
  last_used_at: hubApiKey.lastUsedAt,
};

const ownerAccount = alias(hubAccount, "owner_account");
const publicInstanceColumns = {
  id: hubInstance.id,
  owner: ownerAccount.handle,
  name: hubInstance.name,
  storage_root: hubInstance.storageRoot,
  storage_endpoint: hubInstance.storageEndpoint,
  created_at: hubInstance.createdAt,
};
const instanceRecordColumns = {
  ...publicInstanceColumns,
  owner_id: hubInstance.ownerId,
  db_url: hubInstance.dbUrl,
};

/** A key's row as authentication reads it. */
interface KeyRow {
  keyId: number;
  secretSha256: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  account: HubAccount;
}

/** What makes a caller's role on an instance: the row of the access query. */
interface AccessRow {
  instance: HubInstanceRecord;
  accountId: number;
  memberRole: MemberRole | null;
  collaboratorRole: CollaboratorRole | null;
  /** The caller's roles in restricted spaces, `id:role,...`. */
  spaces: string | null;
}

/** The caller's access from its access row; undefined when it has no role. */
function accessFrom(row: AccessRow): HubAccess | undefined {
  const viaOrg: InstanceRole | undefined =
    row.memberRole === "admin" ? "owner" : row.memberRole === "member" ? "write" : undefined;
  const role =
    row.instance.owner_id === row.accountId
      ? "owner"
      : strongest(viaOrg, row.collaboratorRole ?? undefined);
  const spaces = (row.spaces ? row.spaces.split(",") : []).map((entry) => {
    const [id, spaceRole] = entry.split(":");
    return { spaceId: Number(id), role: spaceRole as CollaboratorRole };
  });
  return role ? { role, instance: row.instance, spaces } : undefined;
}

export interface HubOptions {
  throttle?: AuthThrottle;
  /** Milliseconds since the epoch, for expiry and last-use; injectable for tests. */
  now?: () => number;
}

export class Hub {
  readonly throttle: AuthThrottle;
  private readonly now: () => number;
  private prepared: ReturnType<typeof prepareRequestQueries> | undefined;

  constructor(
    readonly db: Db,
    opts: HubOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.throttle = opts.throttle ?? new AuthThrottle({ now: this.now });
  }

  /** The queries of every request through the hub, prepared once. */
  private get perRequest(): ReturnType<typeof prepareRequestQueries> {
    this.prepared ??= prepareRequestQueries(this.db);
    return this.prepared;
  }

  // ---- accounts and organisations ----

  async createAccount(
    handle: string,
    opts: { kind?: AccountKind; name?: string } = {},
  ): Promise<HubAccount> {
    validateHandle(handle);
    const kind = validateKind(opts.kind ?? "user");
    try {
      const [row] = await this.db
        .insert(hubAccount)
        .values({ uid: randomBase62(8), handle, kind, name: opts.name ?? null })
        .returning(accountColumns);
      return row as HubAccount;
    } catch (error) {
      if (sqlState(error) === "23505") {
        throw new ConflictError(`the handle '${handle}' is taken`, "choose another handle");
      }
      throw error;
    }
  }

  async account(handle: string): Promise<HubAccount> {
    const [row] = await this.db
      .select(accountColumns)
      .from(hubAccount)
      .where(eq(hubAccount.handle, handle));
    if (!row) throw new NotFoundError(`no account '${handle}'`, "check the handle");
    return row;
  }

  private async org(handle: string): Promise<HubAccount> {
    const org = await this.account(handle);
    if (org.kind !== "org") {
      throw new ValidationError(`'${handle}' is a user, not an organisation`, "name an org");
    }
    return org;
  }

  /** Add a user to an org, or change the role of one already in it. */
  async addMember(orgHandle: string, handle: string, role: MemberRole = "member"): Promise<void> {
    validateMemberRole(role);
    const org = await this.org(orgHandle);
    const user = await this.account(handle);
    if (user.kind !== "user") {
      throw new ValidationError(`'${handle}' is an organisation`, "only users can be members");
    }
    await this.db
      .insert(hubMembership)
      .values({ orgId: org.id, accountId: user.id, role })
      .onConflictDoUpdate({
        target: [hubMembership.orgId, hubMembership.accountId],
        set: { role },
      });
  }

  async removeMember(orgHandle: string, handle: string): Promise<void> {
    const org = await this.org(orgHandle);
    const user = await this.account(handle);
    const gone = await this.db
      .delete(hubMembership)
      .where(and(eq(hubMembership.orgId, org.id), eq(hubMembership.accountId, user.id)))
      .returning({ id: hubMembership.accountId });
    if (gone.length === 0) {
      throw new NotFoundError(`'${handle}' is not a member of '${orgHandle}'`);
    }
  }

  async members(orgHandle: string): Promise<{ handle: string; role: MemberRole }[]> {
    const org = await this.org(orgHandle);
    return this.db
      .select({ handle: hubAccount.handle, role: hubMembership.role })
      .from(hubMembership)
      .innerJoin(hubAccount, eq(hubAccount.id, hubMembership.accountId))
      .where(eq(hubMembership.orgId, org.id))
      .orderBy(asc(hubAccount.handle));
  }

  // ---- API keys ----

  async createKey(
    handle: string,
    opts: { name?: string; expiresAt?: Date } = {},
  ): Promise<HubNewKey> {
    const account = await this.account(handle);
    if (opts.expiresAt && !(opts.expiresAt.getTime() > this.now())) {
      throw new ValidationError("the expiry lies in the past", "give a date in the future");
    }
    if (opts.name !== undefined && opts.name.length > 100) {
      throw new ValidationError("the key name is longer than 100 characters", "shorten it");
    }
    const { key, prefix, secretSha256 } = newApiKey();
    const [row] = await this.db
      .insert(hubApiKey)
      .values({
        accountId: account.id,
        prefix,
        secretSha256,
        name: opts.name ?? null,
        expiresAt: opts.expiresAt ?? null,
      })
      .returning({ id: hubApiKey.id, name: hubApiKey.name, expires_at: hubApiKey.expiresAt });
    const { id, name, expires_at } = row as { id: number; name: string | null; expires_at: Date };
    return { key, id, prefix, name, expires_at };
  }

  /** Every key of the account, revoked ones included; never a secret or its digest. */
  async listKeys(handle: string): Promise<HubKeyInfo[]> {
    const account = await this.account(handle);
    return this.db
      .select(keyColumns)
      .from(hubApiKey)
      .where(eq(hubApiKey.accountId, account.id))
      .orderBy(asc(hubApiKey.id));
  }

  /** Revoke one key of `handle`, by id or prefix; revoking twice keeps the first time. */
  async revokeKey(handle: string, idOrPrefix: string | number): Promise<HubKeyInfo> {
    const account = await this.account(handle);
    // an all-digit string may be an id or (rarely) a prefix: match either, within this account
    const which =
      typeof idOrPrefix === "number"
        ? eq(hubApiKey.id, idOrPrefix)
        : /^\d{1,9}$/.test(idOrPrefix)
          ? or(eq(hubApiKey.id, Number(idOrPrefix)), eq(hubApiKey.prefix, idOrPrefix))
          : eq(hubApiKey.prefix, idOrPrefix);
    const mine = and(eq(hubApiKey.accountId, account.id), which);
    const [revoked] = await this.db
      .update(hubApiKey)
      .set({ revokedAt: new Date(this.now()) })
      .where(and(mine, isNull(hubApiKey.revokedAt)))
      .returning(keyColumns);
    if (revoked) return revoked;
    const [already] = await this.db.select(keyColumns).from(hubApiKey).where(mine);
    if (!already) {
      throw new NotFoundError(`'${handle}' has no key ${idOrPrefix}`, "see `lamin keys list`");
    }
    return already;
  }

  /** Revoke every live key of `handle` (e.g. after a leak); returns how many. */
  async revokeAllKeys(handle: string): Promise<number> {
    const account = await this.account(handle);
    const rows = await this.db
      .update(hubApiKey)
      .set({ revokedAt: new Date(this.now()) })
      .where(and(eq(hubApiKey.accountId, account.id), isNull(hubApiKey.revokedAt)))
      .returning({ id: hubApiKey.id });
    return rows.length;
  }

  /**
   * The account a key belongs to. Every refusal looks the same to the caller ("invalid"), so a
   * response never tells a guesser which part was wrong. The key is verified first and only a
   * failure meets the throttle: a correct key is never refused for other people's failures.
   * Nothing is cached: a key revoked or expired a moment ago is refused on the next request.
   */
  async authenticate(key: string, clientAddress?: string): Promise<AuthResult> {
    const parsed = typeof key === "string" ? parseApiKey(key) : undefined;
    if (!parsed) return this.refuse(undefined, clientAddress);
    const [row] = await this.perRequest.keyByPrefix.execute({ prefix: parsed.prefix });
    const account = await this.verified(parsed, row);
    return account ? { account } : this.refuse(parsed.prefix, clientAddress);
  }

  /**
   * authenticate, and the access of the key's account to owner/name (as `access` answers it),
   * in one round trip to the hub's database: what every request to an instance's API needs.
   * The access part is read whatever the key, and dropped unless the key is good.
   */
  async authenticateFor(
    key: string,
    clientAddress: string | undefined,
    owner: string,
    name: string,
  ): Promise<AuthForResult> {
    const parsed = typeof key === "string" ? parseApiKey(key) : undefined;
    if (!parsed) return this.refuse(undefined, clientAddress);
    const [row] = await this.perRequest.keyWithAccess.execute({
      prefix: parsed.prefix,
      owner,
      name,
    });
    const account = await this.verified(parsed, row);
    if (!account || !row) return this.refuse(parsed.prefix, clientAddress);
    // no instance of that slug: the left joins gave nulls
    const found = row.instance.id !== null;
    return {
      account,
      access: found ? accessFrom({ ...row, accountId: account.id } as AccessRow) : undefined,
    };
  }

  /** The key's account if `row` is its live key with that secret; last use noted once a minute. */
  private async verified(
    parsed: { prefix: string; secret: string },
    row: KeyRow | undefined,
  ): Promise<HubAccount | undefined> {
    const now = this.now();
    const ok =
      row !== undefined &&
      secretMatches(parsed.secret, row.secretSha256) &&
      row.revokedAt === null &&
      (row.expiresAt === null || row.expiresAt.getTime() > now);
    if (!ok) return undefined;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.db
        .update(hubApiKey)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(hubApiKey.id, row.keyId));
    }
    return row.account;
  }

  /** A failed attempt: counted; past a budget it is "throttled" (slow down), else "invalid". */
  private refuse(prefix: string | undefined, clientAddress: string | undefined): AuthRefusal {
    const verdict = this.throttle.fail(prefix, clientAddress);
    return verdict.allowed
      ? { error: "invalid" }
      : { error: "throttled", retryAfterSeconds: verdict.retryAfterSeconds };
  }

  // ---- instances ----

  async recordInstance(input: {
    owner: string;
    name: string;
    storageRoot: string;
    storageEndpoint?: string;
    dbUrl: string;
  }): Promise<HubInstancePublic> {
    validateHubInstanceName(input.name);
    const owner = await this.account(input.owner);
    const slug = `${owner.handle}/${input.name}`;
    try {
      const [row] = await this.db
        .insert(hubInstance)
        .values({
          id: instanceIdFromSlug(slug),
          ownerId: owner.id,
          name: input.name,
          storageRoot: input.storageRoot,
          storageEndpoint: input.storageEndpoint ?? null,
          dbUrl: input.dbUrl,
        })
        .returning({
          id: hubInstance.id,
          name: hubInstance.name,
          storage_root: hubInstance.storageRoot,
          storage_endpoint: hubInstance.storageEndpoint,
          created_at: hubInstance.createdAt,
        });
      return { ...(row as Omit<HubInstancePublic, "owner">), owner: owner.handle };
    } catch (error) {
      if (sqlState(error) === "23505") {
        throw new ConflictError(
          `the instance '${slug}' exists`,
          "choose another name, or delete the existing instance first",
        );
      }
      throw error;
    }
  }

  private selectRecords() {
    return this.db
      .select({
        ...publicInstanceColumns,
        owner_id: hubInstance.ownerId,
        db_url: hubInstance.dbUrl,
      })
      .from(hubInstance)
      .innerJoin(ownerAccount, eq(ownerAccount.id, hubInstance.ownerId));
  }

  private async findInstance(owner: string, name: string): Promise<HubInstanceRecord | undefined> {
    const [row] = await this.selectRecords().where(
      and(eq(ownerAccount.handle, owner), eq(hubInstance.name, name)),
    );
    return row;
  }

  /**
   * The instance whose storage holds `location` (`s3://bucket/key`), if any: the one with the
   * longest storage root that is a prefix of it. How a deployment's shared bucket routes events.
   */
  async instanceAtLocation(location: string): Promise<HubInstanceRecord | undefined> {
    const [row] = await this.selectRecords()
      .where(sql`starts_with(${location}, ${hubInstance.storageRoot} || '/')`)
      .orderBy(desc(sql`length(${hubInstance.storageRoot})`))
      .limit(1);
    return row;
  }

  /**
   * An instance whose storage overlaps `root` (the same root, inside it, or around it), if any:
   * storage is never shared, so a new instance may not take such a root.
   */
  async instanceOverlapping(root: string): Promise<{ owner: string; name: string } | undefined> {
    const [row] = await this.db
      .select({ owner: ownerAccount.handle, name: hubInstance.name })
      .from(hubInstance)
      .innerJoin(ownerAccount, eq(ownerAccount.id, hubInstance.ownerId))
      .where(
        or(
          eq(hubInstance.storageRoot, root),
          sql`starts_with(${hubInstance.storageRoot}, ${root}::text || '/')`,
          sql`starts_with(${root}::text, ${hubInstance.storageRoot} || '/')`,
        ),
      )
      .limit(1);
    return row;
  }

  /** Every instance whose storage is below `prefix` (`s3://bucket/`): what a reconcile covers. */
  async instancesBelow(prefix: string): Promise<HubInstanceRecord[]> {
    return this.selectRecords()
      .where(sql`starts_with(${hubInstance.storageRoot}, ${prefix})`)
      .orderBy(asc(hubInstance.storageRoot));
  }

  /** The internal record, database URL included: for the hub's router, never for a client. */
  async instance(owner: string, name: string): Promise<HubInstanceRecord> {
    const row = await this.findInstance(owner, name);
    if (!row) throw new NotFoundError(`no instance '${owner}/${name}'`, "check the slug");
    return row;
  }

  /** Instances `handle` can reach: owned, owned by its orgs, or shared with it. */
  async instances(handle: string): Promise<HubInstancePublic[]> {
    const account = await this.account(handle);
    const orgs = this.db
      .select({ id: hubMembership.orgId })
      .from(hubMembership)
      .where(eq(hubMembership.accountId, account.id));
    const shared = this.db
      .select({ id: hubCollaborator.instanceId })
      .from(hubCollaborator)
      .where(eq(hubCollaborator.accountId, account.id));
    return this.db
      .select(publicInstanceColumns)
      .from(hubInstance)
      .innerJoin(ownerAccount, eq(ownerAccount.id, hubInstance.ownerId))
      .where(
        or(
          eq(hubInstance.ownerId, account.id),
          inArray(hubInstance.ownerId, orgs),
          inArray(hubInstance.id, shared),
        ),
      )
      .orderBy(asc(ownerAccount.handle), asc(hubInstance.name));
  }

  /** Forget an instance (its collaborators go with it); its database is the caller's to drop. */
  async deleteInstance(owner: string, name: string): Promise<HubInstanceRecord> {
    const record = await this.instance(owner, name);
    await this.db.delete(hubInstance).where(eq(hubInstance.id, record.id));
    return record;
  }

  // ---- collaborators and roles ----

  /** Grant `handle` a role on an instance, or change the role it has. */
  async setCollaborator(
    owner: string,
    name: string,
    handle: string,
    role: CollaboratorRole,
  ): Promise<void> {
    validateCollaboratorRole(role);
    const record = await this.instance(owner, name);
    const account = await this.account(handle);
    if (account.kind !== "user") {
      throw new ValidationError(`'${handle}' is an organisation`, "add its members instead");
    }
    if (account.id === record.owner_id) {
      throw new ValidationError(`'${handle}' owns '${owner}/${name}'`, "owners have every right");
    }
    await this.db
      .insert(hubCollaborator)
      .values({ instanceId: record.id, accountId: account.id, role })
      .onConflictDoUpdate({
        target: [hubCollaborator.instanceId, hubCollaborator.accountId],
        set: { role },
      });
  }

  async removeCollaborator(owner: string, name: string, handle: string): Promise<void> {
    const record = await this.instance(owner, name);
    const account = await this.account(handle);
    const gone = await this.db
      .delete(hubCollaborator)
      .where(
        and(eq(hubCollaborator.instanceId, record.id), eq(hubCollaborator.accountId, account.id)),
      )
      .returning({ id: hubCollaborator.accountId });
    if (gone.length === 0) {
      throw new NotFoundError(`'${handle}' is not a collaborator on '${owner}/${name}'`);
    }
    // their spaces go with them: a later grant of the instance starts from `all` again
    await this.db
      .delete(hubSpaceCollaborator)
      .where(
        and(
          eq(hubSpaceCollaborator.instanceId, record.id),
          eq(hubSpaceCollaborator.accountId, account.id),
        ),
      );
  }

  // ---- space collaborators (roles in the restricted spaces of an instance) ----

  /**
   * Grant `handle` a role in the space with id `spaceId` of owner/name (the instance's own
   * `lamindb_space.id`: the caller resolves the name). Only collaborators with the read or write
   * role take space roles: owners and admins see every space already.
   */
  async setSpaceCollaborator(
    owner: string,
    name: string,
    handle: string,
    spaceId: number,
    role: CollaboratorRole,
  ): Promise<void> {
    validateCollaboratorRole(role);
    if (!Number.isInteger(spaceId) || spaceId <= 1 || spaceId > 32767) {
      throw new ValidationError(
        "space all is every collaborator's, by their role on the instance",
        "grant a role in a space you created (lamin create space NAME), or change the instance role",
      );
    }
    const record = await this.instance(owner, name);
    const access = await this.access(handle, owner, name);
    if (!access) {
      throw new ValidationError(
        `'${handle}' is not a collaborator on '${owner}/${name}'`,
        `add them first: lamin collaborator add ${owner}/${name} ${handle} --role read`,
      );
    }
    if (access.role === "owner" || access.role === "admin") {
      throw new ValidationError(
        `'${handle}' is ${access.role === "owner" ? "an owner" : "an admin"} of '${owner}/${name}': they see every space`,
        "space roles are for collaborators with the read or write role",
      );
    }
    const account = await this.account(handle);
    await this.db
      .insert(hubSpaceCollaborator)
      .values({ instanceId: record.id, spaceId, accountId: account.id, role })
      .onConflictDoUpdate({
        target: [
          hubSpaceCollaborator.instanceId,
          hubSpaceCollaborator.spaceId,
          hubSpaceCollaborator.accountId,
        ],
        set: { role },
      });
  }

  async removeSpaceCollaborator(
    owner: string,
    name: string,
    handle: string,
    spaceId: number,
  ): Promise<void> {
    const record = await this.instance(owner, name);
    const account = await this.account(handle);
    const gone = await this.db
      .delete(hubSpaceCollaborator)
      .where(
        and(
          eq(hubSpaceCollaborator.instanceId, record.id),
          eq(hubSpaceCollaborator.spaceId, spaceId),
          eq(hubSpaceCollaborator.accountId, account.id),
        ),
      )
      .returning({ id: hubSpaceCollaborator.accountId });
    if (gone.length === 0) {
      throw new NotFoundError(`'${handle}' has no role in that space of '${owner}/${name}'`);
    }
  }

  /** Every space role on owner/name: the space's id (the instance names it), handle, role. */
  async spaceCollaborators(
    owner: string,
    name: string,
  ): Promise<{ space_id: number; handle: string; role: CollaboratorRole }[]> {
    const record = await this.instance(owner, name);
    return this.db
      .select({
        space_id: hubSpaceCollaborator.spaceId,
        handle: hubAccount.handle,
        role: hubSpaceCollaborator.role,
      })
      .from(hubSpaceCollaborator)
      .innerJoin(hubAccount, eq(hubAccount.id, hubSpaceCollaborator.accountId))
      .where(eq(hubSpaceCollaborator.instanceId, record.id))
      .orderBy(asc(hubSpaceCollaborator.spaceId), asc(hubAccount.handle));
  }

  async collaborators(
    owner: string,
    name: string,
  ): Promise<{ handle: string; role: CollaboratorRole }[]> {
    const record = await this.instance(owner, name);
    return this.db
      .select({ handle: hubAccount.handle, role: hubCollaborator.role })
      .from(hubCollaborator)
      .innerJoin(hubAccount, eq(hubAccount.id, hubCollaborator.accountId))
      .where(eq(hubCollaborator.instanceId, record.id))
      .orderBy(asc(hubAccount.handle));
  }

  /**
   * What `accountHandle` may do on `owner/name`, in one query: the owner or an admin of the owning
   * org → "owner"; a plain org member → "write"; a collaborator → its role (the strongest wins).
   * Undefined for strangers and for missing instances alike, so callers can answer 404 to both.
   */
  async roleOn(
    accountHandle: string,
    owner: string,
    name: string,
  ): Promise<InstanceRole | undefined> {
    return (await this.access(accountHandle, owner, name))?.role;
  }

  /**
   * The caller's role on owner/name and the instance's record, in one query (the hub's router
   * needs both on every request). Undefined when the instance is missing or the caller has no
   * role: callers answer both the same way.
   */
  async access(accountHandle: string, owner: string, name: string): Promise<HubAccess | undefined> {
    const [row] = await this.perRequest.access.execute({ account: accountHandle, owner, name });
    return row ? accessFrom(row as AccessRow) : undefined;
  }
}

/**
 * A key by its prefix, with its account; an instance by slug, with what makes the caller's role;
 * and both at once. Prepared: every request through the hub runs one of them (an instance's API:
 * the third), and the server then parses and plans them once per connection instead of on each
 * request.
 */
function prepareRequestQueries(db: Db) {
  const p = sql.placeholder;
  const keyColumns = {
    keyId: hubApiKey.id,
    secretSha256: hubApiKey.secretSha256,
    expiresAt: hubApiKey.expiresAt,
    revokedAt: hubApiKey.revokedAt,
    lastUsedAt: hubApiKey.lastUsedAt,
    account: accountColumns,
  };
  /** What makes `member`'s role on the instance joined as hub_instance (see accessFrom). */
  const roleColumns = (memberId: AnyPgColumn) => ({
    memberRole: hubMembership.role,
    collaboratorRole: hubCollaborator.role,
    // the caller's roles in restricted spaces, `id:role,...`: in this same round trip
    spaces: sql<
      string | null
    >`(SELECT string_agg(${hubSpaceCollaborator.spaceId} || ':' || ${hubSpaceCollaborator.role}, ',')
      FROM ${hubSpaceCollaborator} WHERE ${hubSpaceCollaborator.instanceId} = ${hubInstance.id}
      AND ${hubSpaceCollaborator.accountId} = ${memberId})`,
  });
  const membership = (memberId: AnyPgColumn) =>
    and(eq(hubMembership.orgId, hubInstance.ownerId), eq(hubMembership.accountId, memberId));
  const collaboration = (memberId: AnyPgColumn) =>
    and(eq(hubCollaborator.instanceId, hubInstance.id), eq(hubCollaborator.accountId, memberId));
  const member = alias(hubAccount, "member_account");
  return {
    keyByPrefix: keptStatement(db, "lamin_hub_key_by_prefix", (db) =>
      db
        .select(keyColumns)
        .from(hubApiKey)
        .innerJoin(hubAccount, eq(hubAccount.id, hubApiKey.accountId))
        .where(eq(hubApiKey.prefix, p("prefix"))),
    ),
    access: keptStatement(db, "lamin_hub_access", (db) =>
      db
        .select({
          instance: instanceRecordColumns,
          accountId: member.id,
          ...roleColumns(member.id),
        })
        .from(hubInstance)
        .innerJoin(ownerAccount, eq(ownerAccount.id, hubInstance.ownerId))
        .innerJoin(member, eq(member.handle, p("account")))
        .leftJoin(hubMembership, membership(member.id))
        .leftJoin(hubCollaborator, collaboration(member.id))
        .where(and(eq(ownerAccount.handle, p("owner")), eq(hubInstance.name, p("name")))),
    ),
    // the key's row, whatever the slug; the instance's columns are null when there is none
    keyWithAccess: keptStatement(db, "lamin_hub_key_with_access", (db) =>
      db
        .select({ ...keyColumns, instance: instanceRecordColumns, ...roleColumns(hubAccount.id) })
        .from(hubApiKey)
        .innerJoin(hubAccount, eq(hubAccount.id, hubApiKey.accountId))
        .leftJoin(ownerAccount, eq(ownerAccount.handle, p("owner")))
        .leftJoin(
          hubInstance,
          and(eq(hubInstance.ownerId, ownerAccount.id), eq(hubInstance.name, p("name"))),
        )
        .leftJoin(hubMembership, membership(hubAccount.id))
        .leftJoin(hubCollaborator, collaboration(hubAccount.id))
        .where(eq(hubApiKey.prefix, p("prefix"))),
    ),
  };
}

/** A hub over an open database, migrated first; `close` closes the database. */
export async function hubOn(
  database: Database,
  opts: HubOptions = {},
  release: () => void = () => {},
): Promise<OpenHub> {
  try {
    await migrate(database.db, [hubMigrations()]);
  } catch (error) {
    await database.close().catch(() => {});
    release();
    throw error;
  }
  return {
    hub: new Hub(database.db, opts),
    database,
    async close() {
      await database.close();
      release();
    },
  };
}

export interface OpenHub {
  hub: Hub;
  database: Database;
  close(): Promise<void>;
}
