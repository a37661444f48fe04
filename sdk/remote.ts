/**
 * An instance over HTTPS: the same artifact operations as an in-process instance, through the
 * API's typed client (hono/client). Bytes go where the API says (its upload ticket), are hashed
 * locally first (same content is never sent twice) and verified on the way back.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { hc } from "hono/client";
import { type ErrorKind, LaminError, UnavailableError, ValidationError } from "../core/errors.js";
import { type FolderHash, hashFile, hashFolder } from "../core/hash.js";
import type { ReconcileReport } from "../core/ingest/reconcile.js";
import type {
  Artifact,
  ArtifactRef,
  ArtifactsApi,
  ListOptions,
  Page,
  SaveOptions,
  SaveResult,
} from "../core/registry/artifacts.js";
import { cacheDir } from "../core/settings.js";
import type { AppType } from "../functions/api/app.js";
import { nodeFetch } from "./node-fetch.js";

const STATUS_KINDS: Record<number, ErrorKind> = {
  400: "validation",
  401: "unauthenticated",
  403: "permission",
  404: "not-found",
  409: "conflict",
  413: "too-large",
  415: "validation",
  422: "integrity",
};

/** Turn a problem+json answer into the same typed error an in-process call would throw. */
export async function failure(response: Response, what: string): Promise<LaminError> {
  let body: { detail?: string; hint?: string } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {}
  const kind = STATUS_KINDS[response.status] ?? "unavailable";
  return new LaminError(
    kind,
    body.detail ?? `${what} failed with HTTP ${response.status}`,
    body.hint ?? (response.status >= 500 ? "the server had a problem; try again later" : undefined),
  );
}

export interface RemoteOptions {
  token: string;
  /** Replaces fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export class RemoteInstance {
  readonly artifacts: RemoteArtifacts;
  readonly url: string;

  constructor(url: string, opts: RemoteOptions) {
    this.url = url.replace(/\/+$/, "");
    this.artifacts = new RemoteArtifacts(this.url, opts);
  }

  /** What the server says about the instance it serves. */
  async describe(): Promise<Record<string, unknown>> {
    return this.artifacts.request(`${this.url}/instance`, {}, "describing the instance");
  }

  /** Compare storage with the registry on the server's side (see `lamin reconcile`). */
  async reconcile(opts: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
    return this.artifacts.request(
      `${this.url}/reconcile?dry_run=${opts.dryRun === true}`,
      { method: "POST" },
      "reconciling storage",
    );
  }

  async close(): Promise<void> {}
}

export class RemoteArtifacts implements ArtifactsApi {
  private readonly client;
  private readonly fetchFn: typeof fetch;

  constructor(
    private readonly url: string,
    private readonly opts: RemoteOptions,
  ) {
    this.fetchFn = opts.fetch ?? nodeFetch;
    this.client = hc<AppType>(url, {
      headers: { authorization: `Bearer ${opts.token}` },
      fetch: (input: string | URL | Request, init?: RequestInit) => this.send(input, init),
    });
  }

  /** fetch with network failures turned into a clear error. */
  private async send(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(input, init);
    } catch (error) {
      throw new UnavailableError(
        `cannot reach ${this.url}: ${(error as Error).message}`,
        "check that the server runs (lamin serve) and the URL is right",
        { cause: error },
      );
    }
  }

  /** JSON of a successful answer, or the problem as a LaminError. */
  private async ok<T>(response: Promise<Response> | Response, what: string): Promise<T> {
    const res = await response;
    if (!res.ok) throw await failure(res, what);
    return (await res.json()) as T;
  }

  /** An authenticated request to a URL that the typed client does not describe. */
  async request<T>(url: string, init: RequestInit, what: string): Promise<T> {
    return this.ok<T>(
      this.send(url, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${this.opts.token}` },
      }),
      what,
    );
  }

  /**
   * A URL of the server's answer, made absolute. A path that already carries this instance's own
   * path (the hub's `/instances/{owner}/{name}/...`) is taken from the origin; any other path is
   * relative to the base URL (e.g. an API behind a stage prefix that does not know it).
   */
  private absolute(path: string): string {
    if (path.startsWith("http")) return path;
    const base = new URL(this.url);
    const prefix = base.pathname.replace(/\/+$/, "");
    if (prefix && (path === prefix || path.startsWith(`${prefix}/`)))
      return `${base.origin}${path}`;
    return `${this.url}${path}`;
  }

  async save(path: string, opts: SaveOptions = {}): Promise<SaveResult> {
    if (opts.schema !== undefined) {
      throw new UnavailableError(
        "saving with a schema works on the instance's database directly, not yet over HTTP",
        "validate and save on the server, or stop `lamin serve` for this command",
      );
    }
    const abs = resolve(path);
    const info = await stat(abs).catch(() => undefined);
    if (!info)
      throw new ValidationError(`path does not exist: ${path}`, "check the path and try again");
    const isFolder = info.isDirectory();
    const progress = opts.onProgress;
    const hashed = isFolder
      ? await hashFolder(abs)
      : await hashFile(
          abs,
          progress &&
            ((done) => progress({ phase: "hash", done, total: info.size, unit: "bytes" })),
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
          encodeURIComponent(file.relPath),
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
        ...(direct ? {} : { authorization: `Bearer ${this.opts.token}` }),
        "content-type": "application/octet-stream",
        "content-length": String(size),
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    if (!res.ok) throw await failure(res, `uploading ${file}`);
  }

  async list(opts: ListOptions = {}): Promise<Page<Artifact>> {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.filter ?? {})) {
      if (v !== undefined)
        query[k] = Array.isArray(v) ? v.join(",") : v instanceof Date ? v.toISOString() : String(v);
    }
    for (const [k, v] of Object.entries(opts.features ?? {})) {
      // feature lookups travel as `feature.<lookup>` (see routes/artifacts.ts)
      if (v !== undefined)
        query[`feature.${k}`] = Array.isArray(v)
          ? v.join(",")
          : typeof v === "object"
            ? JSON.stringify(v)
            : String(v);
    }
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
    changes: { description?: string | null; key?: string },
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

  /** Download the bytes (a folder file by file) and check them against the hash. */
  async load(
    ref: ArtifactRef | string,
    opts: { to?: string } = {},
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
    await rm(dest, { recursive: true, force: true });
    const res = await this.send(`${this.url}/artifacts/${artifact.uid}/download`, {
      headers: { authorization: `Bearer ${this.opts.token}` },
    });
    if (!res.ok) throw await failure(res, `downloading ${artifact.uid}`);
    if (artifact.n_files !== null) {
      const manifest = (await res.json()) as { files: { path: string; url: string }[] };
      for (const file of manifest.files) {
        const part = await this.send(this.absolute(file.url), {
          headers: { authorization: `Bearer ${this.opts.token}` },
        });
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
