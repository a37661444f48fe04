/**
 * The simple LaminDB registries: Transform, Run, Feature, ULabel, Project and Collection, one
 * module each in records/ (shared parts: base.ts, versioned.ts, checks.ts).
 *
 * Each one lists with the shared filter language (keyset pages on created_at, id; the trash is
 * hidden unless the filter names branch_id, id, uid or hash), gets by uid, and creates with
 * LaminDB's rules:
 * - Transform (uid 12 + 4): `unique(key, hash)` with hash = hash_string(source_code); the same key
 *   and source returns the existing transform, new source under a key is its next version, and a
 *   latest version without source yet is reused (and gets the source).
 * - Run (uid 16): belongs to a transform; starts as `started` (`_status_code` -1).
 * - Feature, Project (uid 12), ULabel (uid 8): an exact name match returns the existing record
 *   (LaminDB's `search_names`); a feature of the same name with another dtype is a conflict.
 * - Collection (uid 16 + 4): hash = hash_set(member hashes); the same members return the existing
 *   collection, new members under a key are its next version.
 * Creates that decide on existing rows run in a transaction under an advisory lock on the key
 * (or name), so concurrent creates of the same thing settle on one row.
 */
export type { CreateResult, CreateStatus, RecordListOptions } from "./records/base.js";
export {
  COLLECTION_FILTER_FIELDS,
  type Collection,
  type CollectionInput,
  CollectionModel,
  type CollectionRef,
  Collections,
} from "./records/collections.js";
export {
  DTYPE_EXAMPLES,
  FEATURE_FILTER_FIELDS,
  type Feature,
  type FeatureInput,
  FeatureModel,
  Features,
  isValidDtype,
} from "./records/features.js";
export {
  PROJECT_FILTER_FIELDS,
  type Project,
  type ProjectInput,
  ProjectModel,
  Projects,
} from "./records/projects.js";
export {
  RUN_FILTER_FIELDS,
  RUN_STATUS_CODES,
  RUN_STATUSES,
  type Run,
  type RunInput,
  RunModel,
  type RunStatus,
  Runs,
} from "./records/runs.js";
export {
  TRANSFORM_FILTER_FIELDS,
  TRANSFORM_KINDS,
  type Transform,
  type TransformInput,
  type TransformKind,
  TransformModel,
  Transforms,
} from "./records/transforms.js";
export {
  ULABEL_FILTER_FIELDS,
  type ULabel,
  type ULabelInput,
  ULabelModel,
  ULabels,
} from "./records/ulabels.js";
