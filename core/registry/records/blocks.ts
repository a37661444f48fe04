/**
 * Block (uid 16 + 4): free-standing versioned markdown, LaminDB's `Block` (models/block.py), e.g.
 * the instance's README (key `README.md`). Its rules:
 * - the kind is `readme` (comments go on a record's blocks, record-blocks.ts);
 * - a key is `README.md` or a registry id (`__lamindb_artifact__`, ...);
 * - new content under a key is the next version of the latest block with that key (a latest
 *   block without content yet is reused, and gets the content); `revises` names the block to
 *   follow explicitly;
 * - content a latest live block already has returns that block (LaminDB's hash lookup);
 * - a block can hang on an anchor block (a sub-post, a reply).
 * Deleting moves a block to the trash (its previous version becomes the latest); `permanent`
 * deletes it for good.
 */
import { and, desc, eq, ne } from "drizzle-orm";
import { sqlState } from "../../db/client.js";
import * as t from "../../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.js";
import { hashString } from "../../hash.js";
import type { Instance } from "../../instance.js";
import { stemOf, UID_LENGTHS } from "../../uid.js";
import { TRASH } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import { refreshLatest, uidMatches } from "../common/versions.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import type { CreateResult, Decision, Transaction } from "./base.js";
import { insertVersion, versionFields } from "./versioned.js";

const b = t.block;

/** LaminDB's `RegistryId`: the keys a block may document besides the instance's README. */
export const REGISTRY_IDS = [
  "__lamindb_artifact__",
  "__lamindb_block__",
  "__lamindb_collection__",
  "__lamindb_feature__",
  "__lamindb_jsonvalue__",
  "__lamindb_project__",
  "__lamindb_record__",
  "__lamindb_run__",
  "__lamindb_schema__",
  "__lamindb_storage__",
  "__lamindb_transform__",
  "__lamindb_ulabel__",
] as const;
/** The key of the instance's README. */
export const README_KEY = "README.md";
export const BLOCK_KEYS: readonly string[] = [README_KEY, ...REGISTRY_IDS];

const BLOCK_UID = /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/;

export const BlockModel = defineRegistry({
  name: "block",
  plural: "blocks",
  doc: "Blocks: versioned markdown, e.g. the instance's README (key README.md)",
  table: b,
  uid: {
    length: UID_LENGTHS.block.full,
    stem: UID_LENGTHS.block.stem,
    example: "aB3dE5fG7hJ9kL1m0000",
  },
  fields: {
    uid: field.column(b.uid, { example: "aB3dE5fG7hJ9kL1m0000" }),
    key: field.column(b.key, { example: README_KEY }),
    kind: field.column(b.kind, { example: "readme" }),
    content: field.column(b.content, { noFilter: true, doc: "markdown" }),
    hash: field.column(b.hash, { doc: "hash_string(content), null without content" }),
    ...versionFields(b, "block"),
    anchor: field.ref(b.anchorId, b, { doc: "uid of the block this one hangs on" }),
    projects: field.many(
      t.blockProject,
      t.blockProject.ownerId,
      t.blockProject.labelId,
      t.project,
      {
        doc: "uids of the projects it belongs to",
        write: {},
      },
    ),
  },
  filters: { _status_code: { column: b.statusCode, type: "integer" } },
  inputs: {
    key: input.string(1024, {
      doc: `${README_KEY} (the instance's README) or a registry id such as __lamindb_artifact__`,
      example: README_KEY,
    }),
    content: input.string(Number.MAX_SAFE_INTEGER, { doc: "markdown", example: "# My lab\n" }),
    kind: input.enum(["readme"], { doc: "LaminDB's free-standing blocks are readmes" }),
    version_tag: input.string(30),
    revises: input.string(20, {
      pattern: { regex: BLOCK_UID, hint: "a block uid has 20 base62 characters (16: its latest)" },
      doc: "uid of the block this one is the next version of",
    }),
    anchor: input.string(20, {
      pattern: { regex: BLOCK_UID, hint: "a block uid has 20 base62 characters (16: its latest)" },
      doc: "uid of the block this one hangs on",
    }),
  },
  search: ["key", "content"],
});

export type Block = PublicOf<typeof BlockModel>;
export type BlockInput = InputOf<typeof BlockModel>;

interface Head {
  id: number;
  uid: string;
  key: string | null;
  content: string;
  hash: string | null;
  versionTag: string | null;
  branchId: number;
}
const headColumns = {
  id: b.id,
  uid: b.uid,
  key: b.key,
  content: b.content,
  hash: b.hash,
  versionTag: b.versionTag,
  branchId: b.branchId,
};

export class Blocks extends ModelRegistry<typeof BlockModel> {
  constructor(instance: Instance) {
    super(instance, BlockModel);
  }

  /** Create a block, the next version of one, or get the existing one (see the module's rules). */
  async create(given: BlockInput): Promise<CreateResult<Block>> {
    const checked = this.model.check(given);
    const { key, revises, version_tag: versionTag } = checked;
    if (key !== null && !BLOCK_KEYS.includes(key)) {
      throw new ValidationError(
        `invalid block key '${key.slice(0, 100)}'`,
        `a block's key is ${README_KEY} or one of ${REGISTRY_IDS.join(", ")}`,
      );
    }
    const content = checked.content ?? "";
    const hash = content === "" ? null : hashString(content);
    const anchorId = checked.anchor === null ? null : (await this.live(checked.anchor)).id;
    // one decision per key (or per family named by revises), and per content
    const locks: [number, string][] = [[LOCK.block, `hash:${hash}`]];
    if (key !== null) locks.unshift([LOCK.block, `key:${key}`]);
    return this.decide(locks, async (tx) => {
      let head: Head | undefined;
      if (revises !== null) head = await this.live(revises, tx);
      else if (key !== null) {
        [head] = await tx
          .select(headColumns)
          .from(b)
          .where(and(eq(b.key, key), eq(b.isLatest, true), ne(b.branchId, TRASH)))
          .orderBy(desc(b.createdAt), desc(b.id))
          .limit(1);
        // a latest block without content yet is the one to fill
        if (head && head.content === "") return this.fill(tx, head, content, hash);
      }
      if (hash !== null) {
        const [same] = await tx
          .select(headColumns)
          .from(b)
          .where(and(eq(b.hash, hash), eq(b.isLatest, true), ne(b.branchId, TRASH)))
          .orderBy(b.id)
          .limit(1);
        if (same) {
          const note =
            key !== null && same.key !== key
              ? `block ${same.uid} already has this content, under key ${same.key ?? "(none)"}; it keeps its key`
              : undefined;
          return { id: same.id, status: "existing", note };
        }
      }
      const insert = (uid: string) =>
        tx
          .insert(b)
          .values({
            uid,
            key: key ?? head?.key ?? null,
            content,
            hash,
            kind: "readme",
            versionTag,
            anchorId,
            createdById: this.instance.user.id,
          })
          .returning({ id: b.id });
      const decision = await insertVersion(tx, "block", head, versionTag, insert);
      // revising a block that was not the latest: the new version is the family's latest
      if (head) await refreshLatest(tx, "block", stemOf(head.uid, "block"));
      return decision;
    });
  }

  /** The instance's README: the latest block with key README.md, or null. */
  async readme(): Promise<Block | null> {
    const page = await this.list({ filter: { key: README_KEY, is_latest: true }, limit: 1 });
    return page.items[0] ?? null;
  }

  /** Write the instance's README (a new version of it when the content changed). */
  setReadme(content: string, opts: { version_tag?: string } = {}): Promise<CreateResult<Block>> {
    return this.create({ key: README_KEY, content, kind: "readme", ...opts });
  }

  /**
   * Move a block to the trash (its previous version becomes the latest), or with `permanent`
   * delete it for good. Returns the block as it was.
   */
  async delete(uid: string, opts: { permanent?: boolean } = {}): Promise<Block> {
    const found = await this.find(uid);
    const before = await this.byId(found.row.id);
    const stem = stemOf(found.row.uid, "block");
    await this.db
      .transaction(async (tx) => {
        if (opts.permanent) await tx.delete(b).where(eq(b.id, found.row.id));
        else {
          await tx
            .update(b)
            .set({ branchId: TRASH, isLatest: false })
            .where(eq(b.id, found.row.id));
        }
        await refreshLatest(tx, "block", stem);
      })
      .catch((error: unknown) => {
        if (sqlState(error) === "23503") {
          throw new ConflictError(
            `block ${found.row.uid} anchors other blocks`,
            "delete the blocks that hang on it first, or move it to the trash instead",
          );
        }
        throw error;
      });
    return before;
  }

  /** A live block by uid (a stem: its latest version); `tx` to read inside a decision. */
  private async live(uid: string, tx: Pick<Transaction, "select"> = this.db): Promise<Head> {
    const [hit] = await tx
      .select(headColumns)
      .from(b)
      .where(and(uidMatches(b.uid, uid, UID_LENGTHS.block.stem), ne(b.branchId, TRASH)))
      .orderBy(desc(b.isLatest), desc(b.createdAt), desc(b.id))
      .limit(1);
    if (!hit) {
      throw new NotFoundError(`no block with uid ${uid}`, "list blocks (GET /blocks) for the uid");
    }
    return hit;
  }

  /** Give a block that has no content yet its content (LaminDB returns it to be filled). */
  private async fill(
    tx: Transaction,
    head: Head,
    content: string,
    hash: string | null,
  ): Promise<Decision> {
    if (content === "") return { id: head.id, status: "existing" };
    await tx.update(b).set({ content, hash }).where(eq(b.id, head.id));
    return {
      id: head.id,
      status: "existing",
      note: `${head.uid} had no content yet; it now has this`,
    };
  }
}
