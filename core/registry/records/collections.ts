/**
 * Collection (uid 16 + 4): hash = hash_set(member hashes); the same members return the existing
 * collection, new members under a key are its next version.
 */
import { and, asc, desc, eq, inArray, ne, or } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import { hashSet } from "../../hash.js";
import type { Instance } from "../../instance.js";
import { UID_LENGTHS } from "../../uid.js";
import type { Artifact } from "../artifacts/artifacts.js";
import { loadMembers } from "../artifacts/member-files.js";
import { onCurrentBranch, TRASH } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import { latestFirst, uidMatches } from "../common/versions.js";
import {
  currentRun,
  recordArtifactInput,
  recordCollectionInput,
  recordRecreated,
  recreatingRuns,
} from "../lineage/run-context.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
  type SelectedOf,
} from "../model/model.js";
import { type CreateResult, MAX_DESCRIPTION } from "./base.js";
import { checkKey } from "./checks.js";
import {
  familyColumns,
  headIn,
  insertVersion,
  restoreVersion,
  versionFields,
} from "./versioned.js";

/** How to address a collection: its uid (a 16-character stem: the latest version) or its key. */
export type CollectionRef = string | { key: string };

const MAX_MEMBERS = 10_000;
const c = t.collection;
const ARTIFACT_UID = /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/;
export const CollectionModel = defineRegistry({
  name: "collection",
  plural: "collections",
  doc: "Collections: versioned groups of artifacts",
  table: c,
  uid: {
    length: UID_LENGTHS.collection.full,
    stem: UID_LENGTHS.collection.stem,
    example: "gF0qmv3yWbHB4nT90000",
  },
  fields: {
    uid: field.column(c.uid, { example: "gF0qmv3yWbHB4nT90000" }),
    key: field.column(c.key, { example: "datasets/batch-1" }),
    description: field.column(c.description),
    hash: field.column(c.hash, { doc: "hash_set of the members' hashes" }),
    ...versionFields(c, "collection"),
    artifacts: field.many(
      t.collectionArtifact,
      t.collectionArtifact.collectionId,
      t.collectionArtifact.artifactId,
      t.artifact,
      { doc: "uids of the member artifacts, in the order they were given" },
    ),
  },
  inputs: {
    key: input.required(input.string(255, { example: "datasets/batch-1" })),
    artifacts: input.required(
      input.list(
        input.string(20, {
          pattern: { regex: ARTIFACT_UID, hint: "an artifact uid (20, or a 16-character stem)" },
        }),
        MAX_MEMBERS,
        {
          doc: "uids of saved, completely uploaded artifacts (a 16-character stem: the latest version)",
        },
      ),
    ),
    description: input.string(MAX_DESCRIPTION),
    version_tag: input.string(30),
  },
  search: ["key", "description"],
});
export const COLLECTION_FILTER_FIELDS = Object.keys(CollectionModel.spec.fields);

export type Collection = PublicOf<typeof CollectionModel>;
export type CollectionInput = InputOf<typeof CollectionModel>;

const ARTIFACT = UID_LENGTHS.artifact;
export class Collections extends ModelRegistry<typeof CollectionModel> {
  constructor(instance: Instance) {
    super(instance, CollectionModel);
  }

  /**
   * Group saved artifacts. The same members (same hash) return the existing collection; other
   * members under an existing key make its next version.
   */
  async create(given: CollectionInput): Promise<CreateResult<Collection>> {
    const members = await this.resolveMembers(given?.artifacts);
    const checked = this.model.check(given);
    const key = checkKey(checked.key, 255, "collection");
    const { description } = checked;
    const versionTag = checked.version_tag;
    const hash = hashSet(members.map((m) => m.hash));
    const locks: [number, string][] = [
      [LOCK.collection, key],
      [LOCK.collectionHash, hash],
    ];
    const result = await this.decide(locks, async (tx) => {
      const candidates = await tx
        .select({ ...familyColumns(c), key: c.key })
        .from(c)
        .where(or(eq(c.hash, hash), eq(c.key, key)))
        .orderBy(desc(c.createdAt), desc(c.id));
      const sameHash = candidates.filter((r) => r.hash === hash);
      const live = sameHash.filter((r) => r.branchId !== TRASH);
      const existing = live.find((r) => r.key === key) ?? live[0];
      if (existing) {
        const note =
          existing.key === key
            ? undefined
            : `the same artifacts are already collected as ${existing.uid} with key '${existing.key}'; returning it`;
        return { id: existing.id, status: "existing", note };
      }
      const trashed = sameHash.find((r) => r.key === key);
      if (trashed) {
        await restoreVersion(tx, "collection", trashed);
        return {
          id: trashed.id,
          status: "restored",
          note: `restored ${trashed.uid} from the trash: it has the same artifacts`,
        };
      }
      const head = headIn(
        candidates.filter((r) => r.key === key),
        this.instance,
      );
      const createdById = this.instance.user.id;
      const runId = currentRun(this.instance)?.id ?? null;
      return insertVersion(
        tx,
        "collection",
        head,
        versionTag,
        async (uid) => {
          const rows = await tx
            .insert(c)
            .values({
              uid,
              key,
              description,
              hash,
              versionTag,
              createdById,
              runId,
              ...onCurrentBranch(this.instance),
            })
            .returning({ id: c.id });
          const id = (rows[0] as { id: number }).id;
          for (let i = 0; i < members.length; i += 1000) {
            await tx.insert(t.collectionArtifact).values(
              members.slice(i, i + 1000).map((m) => ({
                collectionId: id,
                artifactId: m.id,
                createdById,
                runId,
              })),
            );
          }
          return rows;
        },
        this.instance.branch.id,
      );
    });
    if (result.status === "existing" || result.status === "restored") {
      // made again by another run than the one that created it (LaminDB's recreating_runs)
      await recordRecreated(
        this.instance,
        "collection",
        (await this.findRow(result.record.uid)).row.id,
      );
    }
    // LaminDB: the artifacts a run collects are its inputs
    for (const m of members) await recordArtifactInput(this.instance, m);
    return result;
  }

  /**
   * uids of the runs that made this collection again after it existed (LaminDB's
   * `collection.recreating_runs`), in the order they did; the creating run is never one.
   */
  async recreatingRuns(ref: CollectionRef): Promise<string[]> {
    return recreatingRuns(this.instance, "collection", (await this.findRow(ref)).row.id);
  }

  /** A collection by uid (a 16-character stem: the latest version) or by key (latest version). */
  override async get(ref: CollectionRef): Promise<Collection> {
    return (await this.shape([await this.findRow(ref)]))[0] as Collection;
  }

  private async findRow(ref: CollectionRef): Promise<SelectedOf<typeof CollectionModel>> {
    if (typeof ref === "string") return super.find(ref);
    const key = checkKey(ref?.key, 255, "collection");
    const [hit] = await this.fetch(and(eq(c.key, key), ne(c.branchId, TRASH)), latestFirst(c), 1);
    if (!hit) {
      throw new NotFoundError(
        `no collection with key '${key}'`,
        "list collections (lamin collection ls, GET /collections)",
      );
    }
    return hit;
  }

  /** The member artifacts, in the order they were collected. */
  async members(ref: CollectionRef): Promise<Artifact[]> {
    const found = await this.findRow(ref);
    return this.memberArtifacts(found.row.id);
  }

  private async memberArtifacts(collectionId: number): Promise<Artifact[]> {
    const ca = t.collectionArtifact;
    const rows = await this.db
      .select({ uid: t.artifact.uid })
      .from(ca)
      .innerJoin(t.artifact, eq(ca.artifactId, t.artifact.id))
      .where(eq(ca.collectionId, collectionId))
      .orderBy(asc(ca.id));
    const out: Artifact[] = [];
    for (const r of rows) out.push(await this.instance.artifacts.get(r.uid));
    return out;
  }

  /**
   * Download every member into the folder `to` (default: the cache), each verified against its
   * hash; a run being tracked records the collection as its input. Two members with the same
   * file name would overwrite each other: that is refused before anything is written.
   */
  async load(
    ref: CollectionRef,
    opts: { to?: string } = {},
  ): Promise<{ collection: Collection; files: { uid: string; path: string }[] }> {
    const found = await this.findRow(ref);
    const collection = (await this.shape([found]))[0] as Collection;
    const members = await this.memberArtifacts(found.row.id);
    const files = await loadMembers(members, opts.to, (uid, o) =>
      this.instance.artifacts.load(uid, o),
    );
    await recordCollectionInput(this.instance, found.row);
    return { collection, files };
  }

  /** The member artifacts, in the given order: saved, completely uploaded, not in the trash. */
  private async resolveMembers(
    refs: unknown,
  ): Promise<{ id: number; uid: string; hash: string; runId: number | null }[]> {
    if (!Array.isArray(refs) || refs.length === 0) {
      throw new ValidationError(
        "a collection needs a non-empty list of artifact uids",
        'e.g. "artifacts": ["xdvTyeyFnBaKhERh0000", "KpMXOLQH0KBtwXz40000"]',
      );
    }
    if (refs.length > MAX_MEMBERS) {
      throw new ValidationError(
        `a collection has at most ${MAX_MEMBERS} artifacts`,
        "split it into several collections",
      );
    }
    const bad = refs.find((r) => typeof r !== "string" || !ARTIFACT_UID.test(r));
    if (bad !== undefined) {
      throw new ValidationError(
        `${JSON.stringify(bad).slice(0, 100)} is not an artifact uid`,
        "an artifact uid has 20 base62 characters (16 for the latest version of a family)",
      );
    }
    const uids = [...new Set(refs as string[])];
    const a = t.artifact;
    const columns = {
      id: a.id,
      uid: a.uid,
      hash: a.hash,
      branchId: a.branchId,
      aux: a.aux,
      runId: a.runId,
    };
    type Found = {
      id: number;
      uid: string;
      hash: string | null;
      branchId: number;
      aux: unknown;
      runId: number | null;
    };
    const full = uids.filter((u) => u.length !== ARTIFACT.stem);
    const found = new Map<string, Found>();
    for (let i = 0; i < full.length; i += 1000) {
      const rows = await this.db
        .select(columns)
        .from(a)
        .where(inArray(a.uid, full.slice(i, i + 1000)));
      for (const row of rows) found.set(row.uid, row);
    }
    for (const stem of uids.filter((u) => u.length === ARTIFACT.stem)) {
      const [row] = await this.db
        .select(columns)
        .from(a)
        .where(uidMatches(a.uid, stem, ARTIFACT.stem))
        .orderBy(...latestFirst(a))
        .limit(1);
      if (row) found.set(stem, row);
    }
    const missing = uids.filter((u) => !found.has(u));
    if (missing.length > 0) {
      throw new ValidationError(
        `no artifact with uid ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ""}`,
        "save the artifacts first, or list them (GET /artifacts)",
      );
    }
    const out: { id: number; uid: string; hash: string; runId: number | null }[] = [];
    const seen = new Set<number>();
    for (const ref of uids) {
      const row = found.get(ref) as Found;
      if (row.branchId === TRASH) {
        throw new ValidationError(
          `artifact ${row.uid} is in the trash`,
          `restore it first (lamin restore ${row.uid}), or leave it out`,
        );
      }
      if ((row.aux as { so?: number } | null)?.so === 1 || row.hash === null) {
        throw new ValidationError(
          `the bytes of artifact ${row.uid} were never completely written`,
          "complete its upload (or save the file again) before collecting it",
        );
      }
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      out.push({ id: row.id, uid: row.uid, hash: row.hash, runId: row.runId });
    }
    return out;
  }
}
