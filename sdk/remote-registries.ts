/**
 * The registries of a remote instance besides artifacts: the same calls as the in-process
 * `Instance` (core/instance.ts), answered by the API (functions/api/routes), with the same
 * results and the same typed errors.
 */
import { ValidationError } from "../core/errors.js";
import type {
  AddOptions,
  Annotation,
  FeaturesApi,
  FeatureValues,
  LabelRefs,
  Owner,
  OwnerRef,
} from "../core/registry/annotations/annotations.js";
import type {
  Artifact,
  ArtifactRef,
  ArtifactsApi,
  Page,
} from "../core/registry/artifacts/artifacts.js";
import { loadMembers } from "../core/registry/artifacts/member-files.js";
import type { Filter } from "../core/registry/model/query.js";
import type {
  LnRecord,
  RecordInput,
  RecordsListOptions,
  SheetRows,
} from "../core/registry/records/record.js";
import type { RunListOptions } from "../core/registry/records/runs.js";
import type {
  Collection,
  CollectionInput,
  CollectionRef,
  CreateResult,
  RecordListOptions,
  Run,
  RunInput,
} from "../core/registry/records.js";
import type { Schema, SchemaInput } from "../core/registry/schemas/schemas.js";
import type { Table, ValidationReport } from "../core/registry/schemas/validate.js";
import { encodePathSegments } from "../core/util/url-path.js";
import type { RemoteHttp } from "./remote-http.js";

/** A filter as query parameters: lists comma-separated, dates in ISO 8601. */
export function filterQuery(filter: Filter = {}, prefix = ""): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(filter)) {
    if (v === undefined) continue;
    query[`${prefix}${k}`] = Array.isArray(v)
      ? v.join(",")
      : v instanceof Date
        ? v.toISOString()
        : typeof v === "object" && v !== null
          ? JSON.stringify(v)
          : String(v);
  }
  return query;
}

/** Paging and filters of a list as query parameters (feature lookups as `feature.<lookup>`). */
export function listQuery(
  opts: RecordListOptions & { features?: Filter | undefined },
): Record<string, string> {
  return {
    ...filterQuery(opts.filter),
    ...filterQuery(opts.features, "feature."),
    ...(opts.limit !== undefined ? { limit: String(opts.limit) } : {}),
    ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
    ...(opts.orderBy !== undefined ? { order_by: opts.orderBy } : {}),
  };
}

export const page = <T>(p: { items: T[]; next_cursor?: string }): Page<T> => ({
  items: p.items,
  ...(p.next_cursor ? { nextCursor: p.next_cursor } : {}),
});

export const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** list, get and create of a record registry (`/features`, `/ulabels`, ...). */
export class RemoteRecords<P, I> {
  constructor(
    protected readonly http: RemoteHttp,
    protected readonly plural: string,
  ) {}

  protected path(rest = "", query: Record<string, string> = {}): string {
    const q = new URLSearchParams(query).toString();
    return `${this.http.url}/${this.plural}${rest}${q ? `?${q}` : ""}`;
  }

  /** Create, or get the existing record LaminDB's rules return (`status` says which). */
  async create(input: I): Promise<CreateResult<P>> {
    return this.http.created<P>(
      this.http.authed(this.path(), json(input)),
      `creating a ${this.plural.replace(/s$/, "")}`,
    );
  }

  async list(opts: RecordListOptions = {}): Promise<Page<P>> {
    return page(
      await this.http.request<{ items: P[]; next_cursor?: string }>(
        this.path("", listQuery(opts)),
        {},
        `listing ${this.plural}`,
      ),
    );
  }

  async get(uid: string): Promise<P> {
    return this.http.request<P>(
      this.path(`/${encodeURIComponent(uid)}`),
      {},
      `getting ${this.plural.replace(/s$/, "")} ${uid}`,
    );
  }

  /**
   * Link the record `uid` to `targets` (uids) through `relation`, with the relation's link
   * columns in `values` (`{ role: "owner" }`); returns the record.
   */
  async link(
    uid: string,
    relation: string,
    targets: readonly string[],
    values: Record<string, unknown> = {},
  ): Promise<P> {
    return this.changeLinks(uid, relation, { ...values, add: [...targets] });
  }

  /** Remove the links of `uid` to `targets` through `relation` (with `values`: only those). */
  async unlink(
    uid: string,
    relation: string,
    targets: readonly string[],
    values: Record<string, unknown> = {},
  ): Promise<P> {
    return this.changeLinks(uid, relation, { ...values, remove: [...targets] });
  }

  /** Set the description of `uid` (a stem: the latest version), or clear it with `null`. */
  async updateDescription(uid: string, description: string | null): Promise<P> {
    return this.http.request<P>(
      this.path(`/${encodeURIComponent(uid)}`),
      { ...json({ description }), method: "PATCH" },
      `updating ${this.plural.replace(/s$/, "")} ${uid}`,
    );
  }

  private changeLinks(uid: string, relation: string, change: Record<string, unknown>) {
    return this.http.request<P>(
      this.path(`/${encodeURIComponent(uid)}/links/${encodeURIComponent(relation)}`),
      json(change),
      `changing the ${relation} of ${this.plural.replace(/s$/, "")} ${uid}`,
    );
  }
}

/** Runs: also listed by feature values and labels, and finished (`lamin finish`). */
export class RemoteRuns extends RemoteRecords<Run, RunInput> {
  constructor(http: RemoteHttp) {
    super(http, "runs");
  }

  override async list(opts: RunListOptions = {}): Promise<Page<Run>> {
    return page(
      await this.http.request<{ items: Run[]; next_cursor?: string }>(
        this.path("", listQuery(opts)),
        {},
        "listing runs",
      ),
    );
  }

  /** End a run: status (default completed) and finished_at. */
  async finish(uid: string, status?: "completed" | "errored" | "aborted"): Promise<Run> {
    return this.http.ok<Run>(
      this.http.client.runs[":uid"].finish.$post({
        param: { uid },
        json: status ? { status } : {},
      }),
      `finishing run ${uid}`,
    );
  }
}

/** Collections: by uid or key, their members, and loading them (each verified). */
export class RemoteCollections extends RemoteRecords<Collection, CollectionInput> {
  constructor(
    http: RemoteHttp,
    private readonly artifacts: RemoteArtifactsLoad,
  ) {
    super(http, "collections");
  }

  /** A collection by uid (a 16-character stem: the latest version) or by key (latest version). */
  override async get(ref: CollectionRef): Promise<Collection> {
    if (typeof ref === "string") return super.get(ref);
    return this.http.request<Collection>(
      this.path("/by-key", { key: ref.key }),
      {},
      `getting collection ${ref.key}`,
    );
  }

  async members(ref: CollectionRef): Promise<Artifact[]> {
    const uid = typeof ref === "string" ? ref : (await this.get(ref)).uid;
    return this.http.request<Artifact[]>(
      this.path(`/${encodeURIComponent(uid)}/members`),
      {},
      `listing the members of ${uid}`,
    );
  }

  /**
   * Download every member into `to` (default: the cache), each verified against its hash, with
   * the in-process rules: two members of the same file name are refused before anything is
   * written, and a failure removes what this call wrote into `to`.
   */
  async load(
    ref: CollectionRef,
    opts: { to?: string } = {},
  ): Promise<{ collection: Collection; files: { uid: string; path: string }[] }> {
    const collection = await this.get(ref);
    const members = await this.members(collection.uid);
    const files = await loadMembers(members, opts.to, (uid, o) => this.artifacts.load(uid, o));
    await this.http.recordInputs({ collections: [collection.uid] });
    return { collection, files };
  }
}

/** What a collection needs of the remote artifacts: load without recording each member. */
interface RemoteArtifactsLoad {
  load(
    ref: string,
    opts: { to?: string; isRunInput?: boolean },
  ): Promise<{ path: string; artifact: Artifact }>;
}

/**
 * Records: also listed by feature values, their own feature values (`features(uid)`), and the
 * records of a type read as a sheet (recorded as inputs of the tracked run, as in process).
 */
export class RemoteRecordsApi extends RemoteRecords<LnRecord, RecordInput> {
  constructor(
    http: RemoteHttp,
    private readonly annotations: RemoteAnnotations,
  ) {
    super(http, "records");
  }

  override async list(opts: RecordsListOptions = {}): Promise<Page<LnRecord>> {
    return page(
      await this.http.request<{ items: LnRecord[]; next_cursor?: string }>(
        this.path("", listQuery(opts)),
        {},
        "listing records",
      ),
    );
  }

  /** Feature values of one record (LaminDB's `record.features`), on the server. */
  features(uid: string): FeaturesApi {
    return new RemoteFeatureManager(this.annotations, "record", uid);
  }

  async sheet(type: string, opts: { limit?: number } = {}): Promise<SheetRows> {
    const sheet = await this.http.request<SheetRows>(
      this.path(
        `/${encodeURIComponent(type)}/sheet`,
        opts.limit !== undefined ? { limit: String(opts.limit) } : {},
      ),
      {},
      `reading the sheet ${type}`,
    );
    // the server's run of this read is the client's: say what it read (the server skips the
    // records the run made)
    await this.http.recordInputs({ records: [sheet.type, ...sheet.rows.map((r) => r.uid)] });
    return sheet;
  }
}

/** The features of one artifact, run or record on a server (`RemoteAnnotations` calls). */
export class RemoteFeatureManager implements FeaturesApi {
  constructor(
    private readonly annotations: RemoteAnnotations,
    private readonly owner: Owner,
    private readonly ref: OwnerRef,
  ) {}

  add(values: FeatureValues, opts: AddOptions = {}): Promise<Annotation> {
    return this.annotations.add(this.owner, this.ref, values, {}, opts);
  }

  /** Replace the values of the named features (removed first, in the same transaction). */
  set(values: FeatureValues, opts: AddOptions = {}): Promise<Annotation> {
    const removeFirst = [...new Set([...(opts.removeFirst ?? []), ...Object.keys(values)])];
    return this.annotations.add(this.owner, this.ref, values, {}, { ...opts, removeFirst });
  }

  get(): Promise<Annotation> {
    return this.annotations.get(this.owner, this.ref);
  }

  remove(...features: string[]): Promise<Annotation> {
    return this.annotations.add(this.owner, this.ref, {}, {}, { removeFirst: features.flat() });
  }

  addLabels(labels: LabelRefs): Promise<Annotation> {
    return this.annotations.add(this.owner, this.ref, {}, labels);
  }
}

/** Feature values and labels of artifacts, runs and records (core/registry/annotations/annotations.ts). */
export class RemoteAnnotations {
  constructor(
    private readonly http: RemoteHttp,
    private readonly artifacts: ArtifactsApi,
  ) {}

  /** An artifact's uid (its key is looked up), a run's or a record's. */
  private async uidOf(owner: Owner, ref: OwnerRef): Promise<string> {
    if (typeof ref === "string") return ref;
    if ("uid" in ref) return ref.uid;
    if (owner !== "artifact") throw new ValidationError(`a ${owner} is addressed by its uid`);
    return (await this.artifacts.get(ref as ArtifactRef)).uid;
  }

  private url(owner: Owner, uid: string): string {
    return `${this.http.url}/${owner}s/${encodeURIComponent(uid)}/features`;
  }

  async get(owner: Owner, ref: OwnerRef): Promise<Annotation> {
    const uid = await this.uidOf(owner, ref);
    return this.http.request<Annotation>(this.url(owner, uid), {}, `getting features of ${uid}`);
  }

  /** Add values and labels: all checked on the server first, nothing written on a bad input. */
  async add(
    owner: Owner,
    ref: OwnerRef,
    values: FeatureValues = {},
    labels: LabelRefs = {},
    opts: { fromText?: boolean; removeFirst?: string[] } = {},
  ): Promise<Annotation> {
    const uid = await this.uidOf(owner, ref);
    return this.http.request<Annotation>(
      this.url(owner, uid),
      json({
        features: values,
        ...labels,
        ...(opts.removeFirst?.length ? { remove: opts.removeFirst } : {}),
        ...(opts.fromText ? { from_text: true } : {}),
      }),
      `annotating ${uid}`,
    );
  }
}

/** Schemas, and validation of local files against them. */
export class RemoteSchemas {
  constructor(private readonly http: RemoteHttp) {}

  async create(input: SchemaInput): Promise<CreateResult<Schema>> {
    const { minimalSet, maximalSet, orderedSet, ...rest } = input;
    return this.http.created<Schema>(
      this.http.client.schemas.$post({
        json: {
          ...rest,
          ...(minimalSet !== undefined ? { minimal_set: minimalSet } : {}),
          ...(maximalSet !== undefined ? { maximal_set: maximalSet } : {}),
          ...(orderedSet !== undefined ? { ordered_set: orderedSet } : {}),
        },
      }),
      `creating schema ${input.name}`,
    );
  }

  async get(ref: string): Promise<Schema> {
    return this.http.request<Schema>(
      `${this.http.url}/schemas/${encodePathSegments(ref)}`,
      {},
      `getting schema ${ref}`,
    );
  }

  async list(opts: { limit?: number } = {}): Promise<Schema[]> {
    return this.http.ok<Schema[]>(
      this.http.client.schemas.$get({
        query: opts.limit !== undefined ? { limit: String(opts.limit) } : {},
      }),
      "listing schemas",
    );
  }

  /**
   * Validate a local file (a folder, for a composite schema): it is read here (`readTable`, or
   * `readSlotTables` for a folder's slots), its columns are checked on the server (`checkTable`,
   * `checkTables`), which answers the same report as in process. `shown` is the path as the user
   * gave it (the report names it).
   */
  async validateFile(path: string, schema: string, shown = path): Promise<ValidationReport> {
    // the schema first, as in process: an unknown schema is the error, whatever the file is
    const found = await this.get(schema);
    // loaded only here: core's registries stay out of a client that does not validate
    const [{ COMPOSITE }, { readSlotTables, readTable }] = await Promise.all([
      import("../core/registry/schemas/schemas.js"),
      import("../core/registry/schemas/validate.js"),
    ]);
    let posted: unknown;
    if (found.itype === COMPOSITE) {
      const slots: Record<string, unknown> = {};
      for (const [slot, got] of Object.entries(await readSlotTables(path, found))) {
        // a slot without its table travels as the issue the read found
        slots[slot] = "kind" in got ? got : tableBody(got.table, got.file);
      }
      posted = { file: shown, slots };
    } else {
      posted = tableBody(await readTable(path), shown);
    }
    const body = JSON.stringify(
      posted,
      // JSON has no dates or big integers: dates travel marked (routes/schemas.ts revives them)
      function (this: Record<string, unknown>, key: string, value: unknown) {
        const raw = this[key];
        if (raw instanceof Date) return { $date: raw.toISOString() };
        return typeof value === "bigint" ? value.toString() : value;
      },
    );
    return this.http.request<ValidationReport>(
      `${this.http.url}/schemas/${encodePathSegments(schema)}/validate`,
      { method: "POST", headers: { "content-type": "application/json" }, body },
      `validating ${shown}`,
    );
  }
}

/** A table as POST /schemas/{ref}/validate takes it (routes/schemas.ts `TableBody`). */
function tableBody(table: Table, file: string) {
  return {
    file,
    format: table.format,
    columns: table.columns,
    values: Object.fromEntries(table.values),
    n_rows: table.nRows,
    text: table.text,
    single: table.single,
  };
}
