/**
 * An instance over HTTPS: the same operations as an in-process instance (artifacts here; the
 * other registries, annotations and schemas in remote-registries.ts), through the API's typed
 * client (hono/client, remote-http.ts). Bytes go where the API says (its upload ticket), are
 * hashed locally first (same content is never sent twice) and verified on the way back.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { LaminError, UnavailableError, ValidationError } from "../core/errors.js";
import { bytesToHash, type FolderHash, hashFile, hashFolder } from "../core/hash.js";
import type { ReconcileReport } from "../core/ingest/reconcile.js";
import type {
  Artifact,
  ArtifactRef,
  ArtifactsApi,
  ListOptions,
  Page,
  SaveOptions,
  SaveResult,
} from "../core/registry/artifacts/artifacts.js";
import { assertLoadTarget } from "../core/registry/artifacts/load-target.js";
import type { SearchHit, SearchOptions } from "../core/registry/model/search.js";
import type { Reference, ReferenceInput } from "../core/registry/records/references.js";
import type {
  Feature,
  FeatureInput,
  Project,
  ProjectInput,
  Transform,
  TransformInput,
  ULabel,
  ULabelInput,
} from "../core/registry/records.js";
import type { ValidationReport } from "../core/registry/schemas/validate.js";
import { cacheDir } from "../core/settings.js";
import { encodePathSegments } from "../core/util/url-path.js";
import { RemoteBlocks, RemoteRecordBlocks } from "./remote-blocks.js";
import { RemoteBranches } from "./remote-branches.js";
import { failure, RemoteHttp, type RemoteOptions } from "./remote-http.js";
import { RemoteModules } from "./remote-modules.js";
import {
  filterQuery,
  RemoteAnnotations,
  RemoteCollections,
  RemoteRecords,
  RemoteRecordsApi,
  RemoteRuns,
  RemoteSchemas,
} from "./remote-registries.js";
import { RemoteSpaces } from "./remote-spaces.js";

export { failure, type RemoteOptions } from "./remote-http.js";

export class RemoteInstance {
  readonly artifacts: RemoteArtifacts;
  readonly url: string;
  readonly transforms: RemoteRecords<Transform, TransformInput>;
  readonly runs: RemoteRuns;
  readonly features: RemoteRecords<Feature, FeatureInput>;
  readonly ulabels: RemoteRecords<ULabel, ULabelInput>;
  readonly projects: RemoteRecords<Project, ProjectInput>;
  readonly records: RemoteRecordsApi;
  readonly references: RemoteRecords<Reference, ReferenceInput>;
  /** Free-standing blocks, e.g. the instance's README. */
  readonly blocks: RemoteBlocks;
  /** The readmes and comments of records. */
  readonly ablocks: RemoteRecordBlocks;
  readonly collections: RemoteCollections;
  /** Feature values and labels of artifacts, runs and records. */
  readonly annotations: RemoteAnnotations;
  readonly schemas: RemoteSchemas;
  /** The instance's modules (bionty): list, search, look up values. */
  readonly modules: RemoteModules;
  /** Branches: create, list, merge (as `instance.branches`). */
  readonly branches: RemoteBranches;
  /** Spaces: list, create (as `instance.spaces`). */
  readonly spaces: RemoteSpaces;
  private readonly http: RemoteHttp;

  constructor(url: string, opts: RemoteOptions & { branch?: string }) {
    this.url = url.replace(/\/+$/, "");
    const http = new RemoteHttp(this.url, opts);
    this.http = http;
    this.artifacts = new RemoteArtifacts(http);
    this.transforms = new RemoteRecords(http, "transforms");
    this.runs = new RemoteRuns(http);
    this.features = new RemoteRecords(http, "features");
    this.ulabels = new RemoteRecords(http, "ulabels");
    this.projects = new RemoteRecords(http, "projects");
    this.references = new RemoteRecords(http, "references");
    this.blocks = new RemoteBlocks(http);
    this.ablocks = new RemoteRecordBlocks(http);
    this.collections = new RemoteCollections(http, this.artifacts);
    this.annotations = new RemoteAnnotations(http, this.artifacts);
    this.records = new RemoteRecordsApi(http, this.annotations);
    this.schemas = new RemoteSchemas(http);
    this.modules = new RemoteModules(http);
    this.branches = new RemoteBranches(http);
    this.spaces = new RemoteSpaces(http);
    if (opts.branch && opts.branch !== "main") http.branch = opts.branch;
  }

  /** The branch this client works on: the server resolves it on every request. */
  get branch(): { name: string } {
    return { name: this.http.branch ?? "main" };
  }

  /**
   * Work on another branch from now on (name or uid; LaminDB's `ln.setup.switch`): writes go
   * there, reads show it and main. Checked with the server first.
   */
  async useBranch(ref: string): Promise<{ name: string; uid: string }> {
    const previous = this.http.branch;
    this.http.branch = undefined;
    try {
      const branch = await this.branches.get(ref);
      this.http.branch = branch.name === "main" ? undefined : branch.name;
      return { name: branch.name, uid: branch.uid };
    } catch (error) {
      this.http.branch = previous;
      throw error;
    }
  }

  /**
   * Attribute what this client saves and loads to a run (the run `lamin track` started; undefined
   * stops): saves get its run_id on the server, loads become its inputs.
   */
  useRun(uid: string | undefined): void {
    this.http.run = uid;
  }

  /** What the server says about the instance it serves. */
  async describe(): Promise<Record<string, unknown>> {
    return this.http.request(`${this.url}/instance`, {}, "describing the instance");
  }

  /** Compare storage with the registry on the server's side (see `lamin reconcile`). */
  async reconcile(opts: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
    return this.http.request(
      `${this.url}/reconcile?dry_run=${opts.dryRun === true}`,
      { method: "POST" },
      "reconciling storage",
    );
  }

  /** Ranked search of a registry by name, on the server (`search("ulabel", "t cell")`). */
  search(registry: string, text: string, opts?: SearchOptions): Promise<SearchHit[]> {
    return this.http.search(registry, text, opts);
  }

  /**
   * Validate a local CSV, TSV, Parquet or JSON file (a folder of one per slot, for a composite
   * schema) against a schema of the server: the files are read here and their columns are checked
   * there (the same report as in process).
   */
  validate(path: string, schema: string): Promise<ValidationReport> {
    return this.schemas.validateFile(path, schema);
  }

  async close(): Promise<void> {}
}

export class RemoteArtifacts implements ArtifactsApi {
  private readonly client;
  private readonly url: string;

  constructor(readonly http: RemoteHttp) {
    this.url = http.url;
    this.client = http.client;
  }

  private send(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return this.http.send(input, init);
  }

  private ok<T>(response: Promise<Response> | Response, what: string): Promise<T> {
    return this.http.ok<T>(response, what);
  }

  /** An authenticated request to a URL that the typed client does not describe. */
  request<T>(url: string, init: RequestInit, what: string): Promise<T> {
    return this.http.request<T>(url, init, what);
  }

  private absolute(path: string): string {
    return this.http.absolute(path);
  }

  private get token(): string {
    return this.http.token;
  }

  async save(path: string, opts: SaveOptions = {}): Promise<SaveResult> {
    const abs = resolve(path);
    if (opts.schema !== undefined) {
      // refused here before a byte is sent; the server checks the stored bytes again (read by
      // the path as given: the report and its messages name files as in process)
      const report = await new RemoteSchemas(this.http).validateFile(path, opts.schema);
      if (!report.valid) {
        const { SchemaValidationError } = await import("../core/registry/schemas/validate.js");
        throw new SchemaValidationError(report);
      }
    }
    const info = await stat(abs).catch(() => undefined);
    if (!info)
      throw new ValidationError(`path does not exist: ${path}`, "check the path and try again");
    const isFolder = info.isDirectory();
    const progress = opts.onProgress;
    const hashed = isFolder
      ? await hashFolder(abs, { links: opts.followLinks ? "follow" : "inside" })
      : await hashFile(
          abs,
          progress &&
            ((done) =>
              progress({ phase: "hash", done, total: bytesToHash(info.size), unit: "bytes" })),
        );
    const ticket = await this.ok<{
      status: SaveResult["status"] | "pending";
      outcome?: "created" | "new-version";
      artifact: Artifact;
      note?: string;
      upload?: {
        url?: string;
        direct?: boolean;
        file_url_template?: string;
        complete_url: string;
      };
    }>(
      this.client.artifacts.uploads.$post({
        json: {
          name: basename(abs),
          size: hashed.size,
          hash: hashed.hash,
          hash_type: hashed.hashType,
          ...("nFiles" in hashed ? { n_files: hashed.nFiles } : {}),
          ...(opts.key !== undefined ? { key: opts.key } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
          ...(opts.versionTag !== undefined ? { version_tag: opts.versionTag } : {}),
          ...(opts.space !== undefined ? { space: opts.space } : {}),
          ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
        },
      }),
      `saving ${path}`,
    );
    const note = ticket.note ? { note: ticket.note } : {};
    if (ticket.status !== "pending" || !ticket.upload) {
      return { artifact: ticket.artifact, status: ticket.status as SaveResult["status"], ...note };
    }
    const upload = ticket.upload;
    if (isFolder) {
      const files = (hashed as FolderHash).files;
      let done = 0;
      for (const file of files) {
        const url = (upload.file_url_template ?? "").replace(
          "{path}",
          encodePathSegments(file.relPath),
        );
        await this.put(this.absolute(url), join(abs, file.relPath), file.size);
        progress?.({ phase: "copy", done: ++done, total: files.length, unit: "files" });
      }
    } else {
      await this.put(this.absolute(upload.url ?? ""), abs, info.size, upload.direct === true);
      progress?.({ phase: "copy", done: info.size, total: info.size, unit: "bytes" });
    }
    const artifact = await this.request<Artifact>(
      this.absolute(upload.complete_url),
      { method: "POST" },
      `completing ${path}`,
    );
    const status = ticket.outcome ?? "created";
    return { artifact, status, ...note };
  }

  async saveMany(
    items: readonly ({ path: string } & Omit<SaveOptions, "onProgress">)[],
  ): Promise<SaveResult[]> {
    const out: SaveResult[] = [];
    for (const item of items) out.push(await this.save(item.path, item));
    return out;
  }

  /** Stream a local file as the body of a PUT (to the API, or `direct` to a presigned URL). */
  private async put(url: string, file: string, size: number, direct = false): Promise<void> {
    const res = await this.send(url, {
      method: "PUT",
      headers: {
        // a presigned URL carries its own signature; a second auth mechanism is refused
        ...(direct ? {} : { authorization: `Bearer ${this.token}` }),
        "content-type": "application/octet-stream",
        "content-length": String(size),
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    if (!res.ok) throw await failure(res, `uploading ${file}`);
  }

  async list(opts: ListOptions = {}): Promise<Page<Artifact>> {
    // feature lookups travel as `feature.<lookup>` (see routes/artifacts.ts)
    const query = { ...filterQuery(opts.filter), ...filterQuery(opts.features, "feature.") };
    if (opts.limit !== undefined) query.limit = String(opts.limit);
    if (opts.cursor !== undefined) query.cursor = opts.cursor;
    if (opts.orderBy !== undefined) query.order_by = opts.orderBy;
    if (opts.allVersions) query.all_versions = "true";
    if (opts.trash) query.trash = "true";
    const page = await this.ok<{ items: Artifact[]; next_cursor?: string }>(
      this.client.artifacts.$get({ query }),
      "listing artifacts",
    );
    return { items: page.items, ...(page.next_cursor ? { nextCursor: page.next_cursor } : {}) };
  }

  private async resolveUid(ref: ArtifactRef | string): Promise<string> {
    if (typeof ref === "string") return ref;
    if ("uid" in ref) return ref.uid;
    return (await this.get(ref)).uid;
  }

  async get(ref: ArtifactRef | string): Promise<Artifact> {
    if (typeof ref !== "string" && "key" in ref) {
      return this.ok(
        this.client.artifacts["by-key"].$get({ query: { key: ref.key } }),
        `getting ${ref.key}`,
      );
    }
    const uid = typeof ref === "string" ? ref : ref.uid;
    return this.ok(this.client.artifacts[":uid"].$get({ param: { uid } }), `getting ${uid}`);
  }

  async versions(ref: ArtifactRef | string): Promise<Artifact[]> {
    const uid = await this.resolveUid(ref);
    return this.ok(
      this.client.artifacts[":uid"].versions.$get({ param: { uid } }),
      `listing versions of ${uid}`,
    );
  }

  async update(
    ref: ArtifactRef | string,
    changes: { description?: string | null; key?: string; space?: string },
  ): Promise<Artifact> {
    const uid = await this.resolveUid(ref);
    return this.ok(
      this.client.artifacts[":uid"].$patch({ param: { uid }, json: changes }),
      `updating ${uid}`,
    );
  }

  async delete(ref: ArtifactRef | string, opts: { permanent?: boolean } = {}): Promise<Artifact> {
    const uid = await this.resolveUid(ref);
    return this.ok(
      this.client.artifacts[":uid"].$delete({
        param: { uid },
        query: opts.permanent ? { permanent: "true" } : {},
      }),
      `deleting ${uid}`,
    );
  }

  async restore(ref: ArtifactRef | string): Promise<Artifact> {
    const uid = await this.resolveUid(ref);
    return this.ok(
      this.client.artifacts[":uid"].restore.$post({ param: { uid } }),
      `restoring ${uid}`,
    );
  }

  /**
   * A download route of this server: on object storage it redirects to a presigned URL, which is
   * read straight from storage without this server's token (the bytes never pass through it).
   */
  private async fetchBytes(url: string): Promise<Response> {
    const res = await this.send(url, {
      headers: { authorization: `Bearer ${this.token}` },
      redirect: "manual",
    });
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (!location) return res;
    await res.body?.cancel();
    return this.send(new URL(location, url).href);
  }

  /** Download the bytes (a folder file by file) and check them against the hash. */
  async load(
    ref: ArtifactRef | string,
    opts: { to?: string; overwrite?: boolean; isRunInput?: boolean } = {},
  ): Promise<{ path: string; artifact: Artifact }> {
    const artifact = await this.get(ref);
    const name = basename(artifact.key ?? `${artifact.uid}${artifact.suffix}`);
    const dest = opts.to
      ? join(resolve(opts.to), name)
      : join(
          cacheDir(),
          new URL(this.url).host,
          artifact.key ?? `${artifact.uid}${artifact.suffix}`,
        );
    if (opts.to) {
      const isFolder = artifact.n_files !== null;
      const target = { ...artifact, isLatest: artifact.is_latest, isFolder };
      await assertLoadTarget(dest, target, opts.overwrite === true);
    }
    await rm(dest, { recursive: true, force: true });
    const res = await this.fetchBytes(`${this.url}/artifacts/${artifact.uid}/download`);
    if (!res.ok) throw await failure(res, `downloading ${artifact.uid}`);
    if (artifact.n_files !== null) {
      const manifest = (await res.json()) as { files: { path: string; url: string }[] };
      for (const file of manifest.files) {
        const part = await this.fetchBytes(this.absolute(file.url));
        if (!part.ok) throw await failure(part, `downloading ${file.path}`);
        await writeBody(part, join(dest, file.path));
      }
    } else {
      await writeBody(res, dest);
    }
    const got = artifact.n_files !== null ? await hashFolder(dest) : await hashFile(dest);
    if (got.hash !== artifact.hash || got.size !== artifact.size) {
      await rm(dest, { recursive: true, force: true });
      throw new LaminError(
        "integrity",
        `the downloaded bytes of ${artifact.uid} do not match its hash (expected ${artifact.hash}, got ${got.hash})`,
        "try again; if it persists, the stored copy was changed outside LaminDB",
      );
    }
    if (opts.isRunInput !== false) await this.http.recordInputs({ artifacts: [artifact.uid] });
    return { path: dest, artifact };
  }
}

async function writeBody(res: Response, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  if (!res.body) throw new UnavailableError("the server sent no bytes", "try again");
  await pipeline(
    Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
    createWriteStream(dest),
  );
}
