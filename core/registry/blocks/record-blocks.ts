/**
 * The blocks attached to a record (LaminDB's `ArtifactBlock`, `TransformBlock`, ... and the
 * records' `ablocks`, models/block.py): one mechanism for every registry that has a block table.
 * LaminDB's rules:
 * - a block is a `readme` or a `comment`;
 * - a record's readme is versioned: a new one is the next version of its latest readme (a latest
 *   readme without content yet is reused and gets the content), never deduplicated by content;
 * - a comment is always a new block, never versioned;
 * - only a transform's blocks point at a line of its source (`line_number`).
 * Editing a readme makes its next version; editing a comment changes it in place. Deleting is for
 * good (these blocks have no trash); the previous version of a deleted latest readme becomes the
 * latest.
 */
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { alias, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import { hashString } from "../../hash.js";
import type { Instance } from "../../instance.js";
import { newVersionedUid, nextVersionedUid, UID_LENGTHS } from "../../uid.js";
import { branchName } from "../common/branch.js";
import { LOCK, lock } from "../common/locks.js";
import { resolveTargets } from "../model/links.js";
import { checkInput, input } from "../model/model.js";
import { exactKeys, keysetPage, type Page, type PageOptions } from "../model/paging.js";
import type { CreateResult, CreateStatus } from "../records/base.js";
import { BLOCK_OWNER_NAMES, type BlockOwnerName } from "./block-owners.js";

/** The columns of every `lamindb_<registry>block` table (core/db/schema/blocks.ts). */
interface BlockTable {
  id: PgColumn;
  uid: PgColumn;
  content: PgColumn;
  hash: PgColumn;
  kind: PgColumn;
  versionTag: PgColumn;
  isLatest: PgColumn;
  createdAt: PgColumn;
  createdById: PgColumn;
  ownerId: PgColumn;
  lineNumber?: PgColumn;
}

interface Owner {
  /** `artifact`, as in messages. */
  name: string;
  /** `artifacts`, as in routes. */
  plural: string;
  blocks: BlockTable & PgTable;
  /** The registry's own table. */
  table: PgTable & { id: PgColumn; uid: PgColumn };
  /** How a record is named: its uid (a stem: the latest version), or also its name. */
  match: string[];
}

/** Each registry's block table, its own table, and how its records are named. */
const OWNED: Record<
  BlockOwnerName,
  [PgTable, PgTable & { id: PgColumn; uid: PgColumn }, string[]?]
> = {
  artifact: [t.artifactBlock, t.artifact],
  collection: [t.collectionBlock, t.collection],
  transform: [t.transformBlock, t.transform],
  run: [t.runBlock, t.run],
  record: [t.recordBlock, t.record],
  feature: [t.featureBlock, t.feature],
  schema: [t.schemaBlock, t.schema],
  project: [t.projectBlock, t.project],
  ulabel: [t.ulabelBlock, t.ulabel],
  space: [t.spaceBlock, t.space, ["uid", "name"]],
  branch: [t.branchBlock, t.branch, ["uid", "name"]],
};

/** Every registry whose records carry blocks, by name. */
export const BLOCK_OWNERS: Record<string, Owner> = Object.fromEntries(
  BLOCK_OWNER_NAMES.map((name) => {
    const [blocks, table, match = ["uid"]] = OWNED[name];
    const plural = name.endsWith("ch") ? `${name}es` : `${name}s`;
    return [name, { name, plural, blocks: blocks as BlockTable & PgTable, table, match }];
  }),
);
/** The plurals, as routes name the registries. */
export const BLOCK_REGISTRIES = Object.values(BLOCK_OWNERS).map((o) => o.plural);

export const BLOCK_KINDS = ["readme", "comment"] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

/** A block of a record, as the SDK returns it and the CLI and API print it. */
export interface RecordBlock {
  uid: string;
  /** The registry of the record: `artifact`. */
  registry: string;
  /** The record's uid. */
  record: string;
  kind: BlockKind;
  content: string;
  /** hash_string(content); null without content. */
  hash: string | null;
  /** The version tag if set, else the uid's 4-character suffix. */
  version: string;
  version_tag: string | null;
  is_latest: boolean;
  /** A transform's block: the line of its source code it is about. */
  line_number: number | null;
  branch: string;
  created_at: string;
  created_by: string;
}

/** What a new block takes. */
export interface RecordBlockInput {
  content?: string | null;
  kind: BlockKind;
  version_tag?: string | null;
  /** Transforms only: a line of the source code. */
  line_number?: number | null;
}

export interface RecordBlockListOptions extends PageOptions {
  /** Only readmes or only comments. */
  kind?: BlockKind;
  /** Every version of the readme, not only its latest. */
  allVersions?: boolean;
}

const INPUTS = {
  content: input.string(Number.MAX_SAFE_INTEGER, { doc: "markdown" }),
  kind: input.required(input.enum(BLOCK_KINDS)),
  version_tag: input.string(30),
  line_number: input.integer(),
};
const BLOCK_UID = /^[0-9A-Za-z]{20}$/;
const STEM = UID_LENGTHS.block.stem;

type Db = Instance["db"];
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

interface Row {
  row: {
    id: number;
    uid: string;
    kind: string;
    content: string;
    hash: string | null;
    versionTag: string | null;
    isLatest: boolean;
    lineNumber: number | null;
    branchId: number | null;
    createdAt: Date;
  };
  createdBy: string;
  record: string;
  createdUs: string;
  updatedUs: string;
}

export class RecordBlocks {
  constructor(private readonly instance: Instance) {}

  private get db(): Db {
    return this.instance.db;
  }

  /** The owner of `registry` (`artifact` or `artifacts`), or an error naming the registries. */
  ownerOf(registry: string): Owner {
    const name = String(registry).toLowerCase().replace(/s$/, "").replace(/che$/, "ch");
    const found = Object.hasOwn(BLOCK_OWNERS, name) ? BLOCK_OWNERS[name] : undefined;
    if (!found) {
      throw new ValidationError(
        `records of '${String(registry).slice(0, 100)}' have no blocks`,
        `registries with blocks: ${Object.keys(BLOCK_OWNERS).join(", ")}`,
      );
    }
    return found;
  }

  /** The id of the live record `ref` names. */
  private async recordId(o: Owner, ref: string, db: Pick<Db, "select"> = this.db) {
    if (typeof ref !== "string" || ref === "") {
      throw new ValidationError(
        `which ${o.name}? give its uid`,
        `e.g. lamin block list --${o.name} UID`,
      );
    }
    const [id] = await resolveTargets(db, { target: o.table, match: o.match }, [ref], o.plural);
    return id as number;
  }

  /** The blocks of a record, newest first: its latest readme and its comments (see options). */
  async list(
    registry: string,
    ref: string,
    opts: RecordBlockListOptions = {},
  ): Promise<Page<RecordBlock>> {
    const o = this.ownerOf(registry);
    if (opts.kind !== undefined) checkInput("kind", INPUTS.kind, opts.kind, "block");
    const ownerId = await this.recordId(o, ref);
    const bt = o.blocks;
    const conditions: SQL[] = [eq(bt.ownerId, ownerId)];
    if (opts.kind) conditions.push(eq(bt.kind, opts.kind));
    if (!opts.allVersions) conditions.push(eq(bt.isLatest, true));
    return keysetPage(
      { id: bt.id, createdAt: bt.createdAt, updatedAt: bt.createdAt },
      conditions,
      opts,
      (where, orderBy, limit) => this.rows(o, where, orderBy, limit),
      (rows) => rows.map((r) => toPublic(o, r)),
    );
  }

  /** The latest readme of a record, or null. */
  async readme(registry: string, ref: string): Promise<RecordBlock | null> {
    const page = await this.list(registry, ref, { kind: "readme", limit: 1 });
    return page.items[0] ?? null;
  }

  /**
   * Attach a block to a record: a readme (the next version of the record's readme) or a comment
   * (a new block). Nothing is written on bad input.
   */
  async add(
    registry: string,
    ref: string,
    given: RecordBlockInput,
  ): Promise<CreateResult<RecordBlock>> {
    const o = this.ownerOf(registry);
    const { content, kind, version_tag: versionTag, line_number: line } = this.check(o, given);
    const ownerId = await this.recordId(o, ref);
    const bt = o.blocks;
    const decided = await this.db.transaction(async (tx) => {
      await lock(tx, LOCK.block, `${o.name}:${ownerId}`);
      const values = {
        content,
        hash: content === "" ? null : hashString(content),
        kind,
        versionTag,
        ownerId,
        createdById: this.instance.user.id,
        ...(bt.lineNumber ? { lineNumber: line } : {}),
      };
      if (kind === "comment") {
        return {
          id: await this.insert(tx, o, newVersionedUid("block"), values),
          status: "created",
        };
      }
      const [head] = await this.family(tx, o, eq(bt.ownerId, ownerId), eq(bt.kind, "readme"));
      if (head && head.content === "") {
        if (content !== "") {
          await tx.update(bt).set({ content, hash: values.hash }).where(eq(bt.id, head.id));
        }
        return { id: head.id, status: "existing" };
      }
      if (!head) {
        return {
          id: await this.insert(tx, o, newVersionedUid("block"), values),
          status: "created",
        };
      }
      return { id: await this.nextVersion(tx, o, head, values), status: "new-version" };
    });
    return { record: await this.byId(o, decided.id), status: decided.status as CreateStatus };
  }

  /**
   * Edit a block of a record: a readme gets a new version with `content`; a comment is changed in
   * place. A block of another record is not found.
   */
  async edit(
    registry: string,
    ref: string,
    blockUid: string,
    given: { content?: string | null; version_tag?: string | null },
  ): Promise<CreateResult<RecordBlock>> {
    const o = this.ownerOf(registry);
    const content = (checkInput("content", INPUTS.content, given?.content, "block") ??
      "") as string;
    const versionTag = checkInput("version_tag", INPUTS.version_tag, given?.version_tag, "block");
    const ownerId = await this.recordId(o, ref);
    const bt = o.blocks;
    const decided = await this.db.transaction(async (tx) => {
      await lock(tx, LOCK.block, `${o.name}:${ownerId}`);
      const block = await this.ownBlock(tx, o, ownerId, blockUid);
      const hash = content === "" ? null : hashString(content);
      if (block.kind === "comment") {
        if (versionTag !== null) {
          throw new ValidationError("a comment has no versions", "leave version_tag out");
        }
        await tx.update(bt).set({ content, hash }).where(eq(bt.id, block.id));
        return { id: block.id, status: "existing" };
      }
      const values = {
        content,
        hash,
        kind: "readme",
        versionTag,
        ownerId,
        createdById: this.instance.user.id,
        ...(bt.lineNumber ? { lineNumber: block.lineNumber } : {}),
      };
      return { id: await this.nextVersion(tx, o, block, values), status: "new-version" };
    });
    return { record: await this.byId(o, decided.id), status: decided.status as CreateStatus };
  }

  /** Delete a block of a record for good; returns it as it was. */
  async delete(registry: string, ref: string, blockUid: string): Promise<RecordBlock> {
    const o = this.ownerOf(registry);
    const ownerId = await this.recordId(o, ref);
    const bt = o.blocks;
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.block, `${o.name}:${ownerId}`);
      const block = await this.ownBlock(tx, o, ownerId, blockUid);
      const before = await this.byId(o, block.id, tx);
      await tx.delete(bt).where(eq(bt.id, block.id));
      if (block.isLatest) {
        // LaminDB promotes the newest remaining version of the family
        const [next] = await this.family(
          tx,
          o,
          sql`${bt.uid} LIKE ${`${block.uid.slice(0, STEM)}%`}`,
        );
        if (next) await tx.update(bt).set({ isLatest: true }).where(eq(bt.id, next.id));
      }
      return before;
    });
  }

  // ---------------------------------------------------------------- internals

  private check(o: Owner, given: RecordBlockInput) {
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      throw new ValidationError(
        "a block is described by an object",
        'e.g. { "kind": "comment", "content": "..." }',
      );
    }
    const unknown = Object.keys(given).filter(
      (k) =>
        !Object.hasOwn(INPUTS, k) && (given as unknown as Record<string, unknown>)[k] !== undefined,
    );
    if (unknown.length) {
      throw new ValidationError(
        `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k.slice(0, 50)}'`).join(", ")} for a block`,
        `a block takes ${Object.keys(INPUTS).join(", ")}`,
      );
    }
    const c = (k: keyof typeof INPUTS) =>
      checkInput(k, INPUTS[k], (given as unknown as Record<string, unknown>)[k], "block");
    const kind = c("kind") as BlockKind;
    const line = c("line_number") as number | null;
    if (line !== null && !o.blocks.lineNumber) {
      throw new ValidationError(
        `a ${o.name}'s blocks have no line_number`,
        "only a transform's blocks point at a line of its source code",
      );
    }
    const versionTag = c("version_tag") as string | null;
    if (kind === "comment" && versionTag !== null) {
      throw new ValidationError("a comment has no versions", "leave version_tag out");
    }
    return {
      content: (c("content") as string | null) ?? "",
      kind,
      version_tag: versionTag,
      line_number: line,
    };
  }

  /** Rows of a family query, latest first: the `where` of one readme family. */
  private family(tx: Pick<Db, "select">, o: Owner, ...where: SQL[]) {
    const bt = o.blocks;
    return tx
      .select({
        id: bt.id,
        uid: bt.uid,
        kind: bt.kind,
        content: bt.content,
        versionTag: bt.versionTag,
        isLatest: bt.isLatest,
        lineNumber: bt.lineNumber ?? sql<null>`NULL`,
      })
      .from(bt)
      .where(and(...where))
      .orderBy(desc(bt.isLatest), desc(bt.createdAt), desc(bt.id))
      .limit(1) as Promise<
      {
        id: number;
        uid: string;
        kind: string;
        content: string;
        versionTag: string | null;
        isLatest: boolean;
        lineNumber: number | null;
      }[]
    >;
  }

  /** The block `uid` of the record `ownerId`; a block of another record is not found. */
  private async ownBlock(tx: Tx, o: Owner, ownerId: number, uid: string) {
    if (typeof uid !== "string" || !BLOCK_UID.test(uid)) {
      throw new ValidationError(
        `'${String(uid).slice(0, 100)}' is not a block uid`,
        "a block uid has 20 base62 characters (lamin block list shows them)",
      );
    }
    const bt = o.blocks;
    const [block] = await this.family(tx, o, eq(bt.uid, uid), eq(bt.ownerId, ownerId));
    if (!block) {
      throw new NotFoundError(
        `no block ${uid} on this ${o.name}`,
        `list its blocks (lamin block list --${o.name} UID)`,
      );
    }
    return block;
  }

  private async insert(tx: Tx, o: Owner, uid: string, values: Record<string, unknown>) {
    const [row] = await tx
      .insert(o.blocks)
      .values({ uid, ...values })
      .returning({ id: o.blocks.id });
    return (row as { id: number }).id;
  }

  /** Insert the next version of the readme family of `head`; the family's latest moves to it. */
  private async nextVersion(
    tx: Tx,
    o: Owner,
    head: { uid: string; versionTag: string | null },
    values: Record<string, unknown>,
  ): Promise<number> {
    const bt = o.blocks;
    const stem = head.uid.slice(0, STEM);
    const family = await tx
      .select({ uid: bt.uid, versionTag: bt.versionTag })
      .from(bt)
      .where(sql`${bt.uid} LIKE ${`${stem}%`}`);
    const tag = values.versionTag as string | null;
    if (tag !== null && family.some((f) => f.versionTag === tag)) {
      throw new ValidationError(
        `version tag '${tag}' is already used by this readme`,
        "pass another version_tag",
      );
    }
    const uid = nextVersionedUid(
      "block",
      head.uid,
      family.map((f) => f.uid as string),
    );
    await tx
      .update(bt)
      .set({ isLatest: false })
      .where(sql`${bt.uid} LIKE ${`${stem}%`} AND ${bt.isLatest}`);
    return this.insert(tx, o, uid, values);
  }

  private async rows(
    o: Owner,
    where: SQL | undefined,
    orderBy: SQL[],
    limit: number,
    db: Pick<Db, "select"> = this.db,
  ): Promise<Row[]> {
    const bt = o.blocks;
    const owner = alias(o.table, "block_owner") as unknown as { id: PgColumn; uid: PgColumn };
    const branchId = (bt as unknown as Record<string, PgColumn | undefined>).branchId;
    return (await db
      .select({
        row: {
          id: bt.id,
          uid: bt.uid,
          kind: bt.kind,
          content: bt.content,
          hash: bt.hash,
          versionTag: bt.versionTag,
          isLatest: bt.isLatest,
          lineNumber: bt.lineNumber ?? sql<null>`NULL`,
          branchId: branchId ?? sql<null>`NULL`,
          createdAt: bt.createdAt,
        },
        createdBy: t.user.handle,
        record: owner.uid,
        ...exactKeys({ createdAt: bt.createdAt, updatedAt: bt.createdAt }),
      })
      .from(bt)
      .innerJoin(t.user, eq(bt.createdById, t.user.id))
      .innerJoin(owner as unknown as PgTable, eq(bt.ownerId, owner.id))
      .where(where)
      .orderBy(...orderBy)
      .limit(limit)) as Row[];
  }

  private async byId(o: Owner, id: number, db: Pick<Db, "select"> = this.db) {
    const [row] = await this.rows(o, eq(o.blocks.id, id), [], 1, db);
    if (!row) throw new NotFoundError(`block ${id} vanished`, "try again");
    return toPublic(o, row);
  }
}

function toPublic(o: Owner, { row: r, createdBy, record }: Row): RecordBlock {
  return {
    uid: r.uid,
    registry: o.name,
    record,
    kind: r.kind as BlockKind,
    content: r.content,
    hash: r.hash,
    version: r.versionTag ?? r.uid.slice(STEM),
    version_tag: r.versionTag,
    is_latest: r.isLatest,
    line_number: r.lineNumber,
    branch: branchName(r.branchId ?? 1),
    created_at: r.createdAt.toISOString(),
    created_by: createdBy,
  };
}
