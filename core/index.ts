/**
 * lamindb-serverless: LaminDB's registries in TypeScript.
 *
 * ```ts
 * import { connect } from "lamindb-serverless";
 * const ln = await connect();                        // the current instance (see `lamin connect`)
 * const { artifact } = await ln.artifacts.save("data.csv", { key: "raw/data.csv" });
 * const { items } = await ln.artifacts.list({ filter: { key__startswith: "raw/" } });
 * await ln.close();
 * ```
 */
import type { Instance, OpenOptions } from "./instance.js";
import { type InitOptions, initInstance, openInstance } from "./setup.js";

/** Create an instance (`lamin init`): embedded PGlite in `<storage>/.lamindb/` unless `db` is given. */
export function init(opts: InitOptions): Promise<Instance> {
  return initInstance(opts);
}

/** Open a known instance by name; without a name the current one (`LAMIN_INSTANCE` overrides). */
export function connect(name?: string, opts?: OpenOptions): Promise<Instance> {
  return openInstance(name, opts);
}

export {
  ConflictError,
  type ErrorKind,
  InsufficientStorageError,
  IntegrityError,
  LaminError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "./errors.js";
export { hashFile, hashFolder, hashString } from "./hash.js";
export { Instance, type OpenOptions } from "./instance.js";
export {
  defineModule,
  type FieldDeclaration,
  type ModuleDeclaration,
  type RegistryDeclaration as ModuleRegistryDeclaration,
} from "./modules/declare.js";
export { loadModuleFolder } from "./modules/external.js";
export {
  addParent,
  biontyUid,
  deployMigrations,
  enabledModules,
  enableModules,
  instanceMigrationStatus,
  type LookupResult,
  listModules,
  lookupModuleValues,
  MODULES,
  type ModuleInfo,
  registerModule,
  type SearchHit as ModuleSearchHit,
  searchRegistry,
} from "./modules/index.js";
export {
  createModuleRecord,
  deleteModuleRecord,
  listModuleRecords,
  type ModuleRecord,
  updateModuleRecord,
} from "./modules/records.js";
export {
  type AddOptions,
  type Annotation,
  type FeatureManager,
  type FeaturesApi,
  type FeatureValues,
  type LabelRefs,
  type Owner,
  parseDtype,
} from "./registry/annotations/annotations.js";
export type {
  Artifact,
  ArtifactRef,
  ListOptions,
  OrderBy,
  Page,
  Progress,
  SaveOptions,
  SaveResult,
  SaveStatus,
} from "./registry/artifacts/artifacts.js";
export { ARTIFACT_FILTER_FIELDS } from "./registry/artifacts/artifacts.js";
export type {
  BlockKind,
  RecordBlock,
  RecordBlockInput,
  RecordBlockListOptions,
} from "./registry/blocks/record-blocks.js";
export {
  type LineageDirection,
  type LineageEdge,
  type LineageGraph,
  type LineageNode,
  type LineageOptions,
  toDot,
  toMermaid,
  toSvg,
  toText,
} from "./registry/lineage/lineage.js";
export type { EndStatus, TrackOptions, TrackResult } from "./registry/lineage/tracking.js";
export { type Filter, OPERATORS } from "./registry/model/query.js";
export { SEARCH_REGISTRIES, type SearchHit, type SearchOptions } from "./registry/model/search.js";
export { type Block, type BlockInput, README_KEY } from "./registry/records/blocks.js";
export {
  type LnRecord,
  RECORD_FILTER_FIELDS,
  type RecordInput,
  type RecordsListOptions,
  type SheetRows,
} from "./registry/records/record.js";
export type {
  Collection,
  CollectionInput,
  CollectionRef,
  CreateResult,
  CreateStatus,
  Feature,
  FeatureInput,
  Project,
  ProjectInput,
  RecordListOptions,
  Run,
  RunInput,
  RunStatus,
  Transform,
  TransformInput,
  TransformKind,
  ULabel,
  ULabelInput,
} from "./registry/records.js";
export {
  COLLECTION_FILTER_FIELDS,
  FEATURE_FILTER_FIELDS,
  isValidDtype,
  PROJECT_FILTER_FIELDS,
  RUN_FILTER_FIELDS,
  RUN_STATUSES,
  TRANSFORM_FILTER_FIELDS,
  TRANSFORM_KINDS,
  ULABEL_FILTER_FIELDS,
} from "./registry/records.js";
export {
  type HashInput as SchemaHashInput,
  type Schema,
  type SchemaInput,
  type SchemaMember,
  schemaHash,
  schemaHashEntries,
} from "./registry/schemas/schemas.js";
export {
  type Format as ValidationFormat,
  type Issue as ValidationIssue,
  SchemaValidationError,
  type ValidationReport,
  type ValueCount,
} from "./registry/schemas/validate.js";
export type { InstanceSettings } from "./settings.js";
export { type InitOptions, knownInstances } from "./setup.js";
