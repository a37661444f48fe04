/**
 * The Artifact registry declared as every other registry is (model/model.ts): its public fields,
 * uid rule and search. The filter fields of the query language, the public shape, GET
 * /registries and the OpenAPI schema come from here; saving, versions and loading stay in
 * artifacts.ts, whose list joins storage, creator and run by hand for speed (the refs below join
 * those tables themselves, not aliases, so the same filters fit its queries).
 */
import { join } from "node:path";
import * as t from "../../db/schema.js";
import { AUTO_KEY_PREFIX } from "../../storage/types.js";
import { UID_LENGTHS } from "../../uid.js";
import { defineRegistry, field, type PublicOf } from "../model/model.js";
import { versionFields } from "../records/versioned.js";

const STEM = UID_LENGTHS.artifact.stem;

/** What says where an artifact's bytes are. */
export type PhysicalRow = Pick<
  t.ArtifactRow,
  "uid" | "key" | "realKey" | "keyIsVirtual" | "overwriteVersions" | "suffix"
>;

/** Storage key of the bytes: `.lamindb/<uid><suffix>` (folders: the 16-char stem) or the key. */
export function physicalKey(row: PhysicalRow): string {
  if (row.realKey) return row.realKey;
  if (row.key === null || row.keyIsVirtual) {
    const uid = row.overwriteVersions ? row.uid.slice(0, STEM) : row.uid;
    return `${AUTO_KEY_PREFIX}${uid}${row.suffix}`;
  }
  return row.key;
}

/** Whether an artifact's bytes are still being written (an upload, an interrupted save). */
export function isOngoing(row: Pick<t.ArtifactRow, "aux">): boolean {
  return (row.aux as { so?: number } | null)?.so === 1;
}

const a = t.artifact;
export const ArtifactModel = defineRegistry({
  name: "artifact",
  plural: "artifacts",
  doc: "Artifacts: files and folders with LaminDB hashes, versions and annotations",
  table: a,
  uid: { length: UID_LENGTHS.artifact.full, stem: STEM, example: "xdvTyeyFnBaKhERh0000" },
  fields: {
    uid: field.column(a.uid, { example: "xdvTyeyFnBaKhERh0000" }),
    key: field.column(a.key, { example: "raw/counts.csv" }),
    description: field.column(a.description),
    suffix: field.column(a.suffix, { example: ".csv" }),
    kind: field.column(a.kind, { example: "dataset" }),
    otype: field.column(a.otype),
    size: field.column(a.size, { example: 21 }),
    hash: field.column(a.hash, { example: "T4DiO4lrW8o_K_Hc82pTjA" }),
    hash_type: field.column(a.hashType, { example: "md5" }),
    n_files: field.column(a.nFiles),
    n_observations: field.column(a.nObservations),
    ...versionFields(a, "artifact"),
    storage: field.ref(a.storageId, t.storage, {
      via: "root",
      lookups: ["root"],
      shared: true,
      doc: "the storage root",
    }),
    path: field.computed(
      "string",
      (r, refs) => {
        const root = refs.storage as string;
        const key = physicalKey(r as unknown as PhysicalRow);
        return root.includes("://") ? `${root}/${key}` : join(root, key);
      },
      { doc: "where the bytes are: a local path or a storage URL" },
    ),
    upload_complete: field.computed(
      "boolean",
      (r) => !isOngoing(r as unknown as Pick<t.ArtifactRow, "aux">),
      { doc: "false while the bytes are still being written (or a save was interrupted)" },
    ),
    run: field.ref(a.runId, t.run, {
      lookups: ["uid"],
      shared: true,
      doc: "uid of the run that saved it",
    }),
    // filled by Artifacts from a cache of the spaces table (space-names.ts): no join in the lists
    space: field.computed("string", () => "", {
      doc: "name of the space the artifact is in (who may see it)",
      example: "all",
    }),
  },
  inputs: {},
  search: ["key", "description"],
});

export type Artifact = PublicOf<typeof ArtifactModel>;
