/**
 * The transport of a remote instance: the API's typed client (hono/client) with the bearer
 * token, network failures and problem+json answers turned into the same typed LaminErrors an
 * in-process call throws. Shared by the remote registries (remote.ts, remote-registries.ts).
 */
import { hc } from "hono/client";
import {
  ConflictError,
  type ErrorKind,
  InsufficientStorageError,
  IntegrityError,
  LaminError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "../core/errors.js";
import type { SearchHit, SearchOptions } from "../core/registry/model/search.js";
import type { CreateResult, CreateStatus } from "../core/registry/records.js";
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
  507: "insufficient-storage",
};

/** The classes in-process code throws per kind, so that `instanceof` works remotely too. */
const CLASSES: Partial<Record<ErrorKind, new (message: string, hint?: string) => LaminError>> = {
  validation: ValidationError,
  "not-found": NotFoundError,
  conflict: ConflictError,
  unavailable: UnavailableError,
  "insufficient-storage": InsufficientStorageError,
  integrity: IntegrityError,
};

/**
 * Turn a problem+json answer into the same typed error an in-process call would throw; a
 * schema validation's report comes back as a SchemaValidationError.
 */
export async function failure(response: Response, what: string): Promise<LaminError> {
  let body: { detail?: string; hint?: string; report?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {}
  if (response.status === 400 && body.report && typeof body.report === "object") {
    const { SchemaValidationError } = await import("../core/registry/schemas/validate.js");
    return new SchemaValidationError(
      body.report as ConstructorParameters<typeof SchemaValidationError>[0],
    );
  }
  const kind = STATUS_KINDS[response.status] ?? "unavailable";
  const message = body.detail ?? `${what} failed with HTTP ${response.status}`;
  const hint =
    body.hint ?? (response.status >= 500 ? "the server had a problem; try again later" : undefined);
  const Class = CLASSES[kind];
  return Class ? new Class(message, hint) : new LaminError(kind, message, hint);
}

export interface RemoteOptions {
  token: string;
  /** Replaces fetch (tests, proxies). */
  fetch?: typeof fetch;
}

const client = (url: string, token: string, fetchFn: typeof fetch) =>
  hc<AppType>(url, { headers: { authorization: `Bearer ${token}` }, fetch: fetchFn });

export class RemoteHttp {
  readonly url: string;
  readonly token: string;
  readonly client: ReturnType<typeof client>;
  private readonly fetchFn: typeof fetch;

  constructor(url: string, opts: RemoteOptions) {
    this.url = url.replace(/\/+$/, "");
    this.token = opts.token;
    this.fetchFn = opts.fetch ?? nodeFetch;
    this.client = client(this.url, opts.token, ((
      input: string | URL | Request,
      init?: RequestInit,
    ) => this.send(input, init)) as typeof fetch);
  }

  /**
   * The run that writes are attributed to (`lamin track` on this machine): sent with every
   * write to this server as the `lamin-run` header (functions/api/app.ts).
   */
  run: string | undefined;

  /**
   * The branch this client works on (`lamin switch`): sent with every request to this server as
   * the `lamin-branch` header (functions/api/app.ts); undefined: main.
   */
  branch: string | undefined;

  /** fetch with network failures turned into a clear error. */
  async send(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(input, this.withRun(input, init));
    } catch (error) {
      throw new UnavailableError(
        `cannot reach ${this.url}: ${(error as Error).message}`,
        "check that the server runs (lamin serve) and the URL is right",
        { cause: error },
      );
    }
  }

  private withRun(input: string | URL | Request, init?: RequestInit): RequestInit | undefined {
    const method = (init?.method ?? "GET").toUpperCase();
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    // never to a presigned storage URL: the headers are for this server only
    if (!url.startsWith(new URL(this.url).origin)) return init;
    const run = this.run && method !== "GET" ? this.run : undefined;
    if (!run && !this.branch) return init;
    const headers = new Headers(init?.headers);
    if (run) headers.set("lamin-run", run);
    if (this.branch) headers.set("lamin-branch", this.branch);
    return { ...init, headers };
  }

  /** JSON of a successful answer, or the problem as a LaminError. */
  async ok<T>(response: Promise<Response> | Response, what: string): Promise<T> {
    const res = await response;
    if (!res.ok) throw await failure(res, what);
    return (await res.json()) as T;
  }

  /** The answer of a create, with the outcome the server names (routes/status.ts). */
  async created<T>(response: Promise<Response> | Response, what: string): Promise<CreateResult<T>> {
    const res = await response;
    if (!res.ok) throw await failure(res, what);
    const record = (await res.json()) as T;
    const status = (res.headers.get("lamin-status") ??
      (res.status === 201 ? "created" : "existing")) as CreateStatus;
    const note = res.headers.get("lamin-note");
    return { record, status, ...(note ? { note: decodeURIComponent(note) } : {}) };
  }

  /** An authenticated request to a URL that the typed client does not describe. */
  authed(url: string, init: RequestInit = {}): Promise<Response> {
    return this.send(url, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${this.token}` },
    });
  }

  /** The JSON answer of an authenticated request (see `authed`). */
  async request<T>(url: string, init: RequestInit, what: string): Promise<T> {
    return this.ok<T>(this.authed(url, init), what);
  }

  /**
   * A URL of the server's answer, made absolute. A path that already carries this instance's own
   * path (the hub's `/instances/{owner}/{name}/...`) is taken from the origin; any other path is
   * relative to the base URL (e.g. an API behind a stage prefix that does not know it).
   */
  absolute(path: string): string {
    if (path.startsWith("http")) return path;
    const base = new URL(this.url);
    const prefix = base.pathname.replace(/\/+$/, "");
    if (prefix && (path === prefix || path.startsWith(`${prefix}/`)))
      return `${base.origin}${path}`;
    return `${this.url}${path}`;
  }

  /**
   * What the tracked run (if any) read: its inputs, recorded on the server. A run that was
   * deleted meanwhile records nothing, as in process.
   */
  async recordInputs(inputs: {
    artifacts?: string[];
    collections?: string[];
    records?: string[];
  }): Promise<void> {
    if (!this.run) return;
    const res = await this.client.runs[":uid"].inputs.$post({
      param: { uid: this.run },
      json: inputs,
    });
    if ((res.status as number) === 403) {
      // a reader's run (tracked before the role changed): the load is done, say what is not
      const denied = await failure(res, `recording the inputs of run ${this.run}`);
      throw new LaminError(
        "permission",
        `loaded, but not recorded as an input of run ${this.run}: ${denied.message}`,
        "tracking a run on this instance needs write access: ask an admin for it, or finish the run (lamin finish) where you have it",
      );
    }
    if (!res.ok && (res.status as number) !== 404) {
      throw await failure(res, `recording the inputs of run ${this.run}`);
    }
  }

  /** Ranked search of a registry by name. */
  search(registry: string, text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return this.ok(
      this.client.search[":registry"].$get({
        param: { registry },
        query: { q: text, ...(opts.limit !== undefined ? { limit: String(opts.limit) } : {}) },
      }),
      `searching ${registry}`,
    );
  }
}
