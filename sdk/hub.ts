/**
 * The hub over HTTPS: account, API keys, instances and collaborators (functions/hub/app.ts), and
 * the saved login (`$LAMIN_HOME/hub.json`, readable by its owner only) that the CLI and
 * `connect('owner/name')` use. Problem answers become the same LaminErrors as everywhere else.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LaminError, NotFoundError, UnavailableError, ValidationError } from "../core/errors.js";
import { laminHome } from "../core/settings.js";
import { nodeFetch } from "./node-fetch.js";
import { failure } from "./remote.js";

export type HubRole = "read" | "write" | "admin";

export interface HubAccountInfo {
  uid: string;
  handle: string;
  kind: "user" | "org";
  name: string | null;
  created_at: string;
}

export interface HubKey {
  id: number;
  prefix: string;
  name: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface HubNewKeyInfo {
  /** The plaintext key: in this answer only. */
  key: string;
  id: number;
  prefix: string;
  name: string | null;
  expires_at: string | null;
}

export interface HubInstanceInfo {
  id: string;
  owner: string;
  name: string;
  storage_root: string;
  storage_endpoint: string | null;
  created_at: string;
}

/** A collaborator's role in a restricted space of an instance. */
export interface HubSpaceCollaboratorInfo {
  space: string;
  space_uid: string;
  handle: string;
  role: HubRole;
}

export interface HubCollaboratorInfo {
  handle: string;
  role: HubRole;
}

const SLUG = /^([^/\s:]+)\/([^/\s]+)$/;

/** `owner/name` split in two; undefined for anything else (a name, a URL). */
export function parseSlug(value: string): { owner: string; name: string } | undefined {
  if (/^https?:\/\//i.test(value)) return undefined;
  const m = SLUG.exec(value);
  return m ? { owner: m[1] as string, name: m[2] as string } : undefined;
}

/** Like parseSlug, with a clear error for anything that is not `owner/name`. */
export function requireSlug(value: string): { owner: string; name: string } {
  const slug = parseSlug(value);
  if (!slug) {
    throw new ValidationError(
      `'${value}' is not an instance slug`,
      "write it as owner/name, e.g. alice/lab",
    );
  }
  return slug;
}

export class HubClient {
  readonly url: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    url: string,
    private readonly key: string,
    opts: { fetch?: typeof fetch } = {},
  ) {
    this.url = url.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? nodeFetch;
  }

  /** Where the API of `owner/name` is reached through the hub. */
  instanceUrl(owner: string, name: string): string {
    return `${this.url}/instances/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  }

  private async call<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new UnavailableError(
        `cannot reach the hub at ${this.url}: ${(error as Error).message}`,
        "check that the hub runs (lamin hub serve) and the URL is right",
        { cause: error },
      );
    }
    if (!res.ok) throw await failure(res, what);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  account(): Promise<HubAccountInfo> {
    return this.call("GET", "/account", "checking the API key");
  }

  keys(): Promise<HubKey[]> {
    return this.call("GET", "/keys", "listing keys");
  }

  createKey(opts: { name?: string; expiresAt?: Date } = {}): Promise<HubNewKeyInfo> {
    return this.call("POST", "/keys", "creating a key", {
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.expiresAt ? { expires_at: opts.expiresAt.toISOString() } : {}),
    });
  }

  revokeKey(idOrPrefix: string | number): Promise<HubKey> {
    return this.call(
      "DELETE",
      `/keys/${encodeURIComponent(String(idOrPrefix))}`,
      `revoking key ${idOrPrefix}`,
    );
  }

  async revokeAllKeys(): Promise<number> {
    return (await this.call<{ revoked: number }>("DELETE", "/keys", "revoking keys")).revoked;
  }

  instances(): Promise<HubInstanceInfo[]> {
    return this.call("GET", "/instances", "listing instances");
  }

  /** One instance and the caller's role; 404 (missing, or no access) as a NotFoundError. */
  async instance(owner: string, name: string): Promise<HubInstanceInfo & { role: string }> {
    try {
      return await this.call("GET", this.instancePath(owner, name), `looking up ${owner}/${name}`);
    } catch (error) {
      if (error instanceof LaminError && error.kind === "not-found") {
        throw new NotFoundError(
          `no instance ${owner}/${name}, or you have no access`,
          "check the slug; its owner or an admin can add you (lamin collaborator add)",
        );
      }
      throw error;
    }
  }

  createInstance(input: {
    owner: string;
    name: string;
    /** Absent: the hub's default storage (a deployed hub: its bucket). */
    storageRoot?: string;
    storageEndpoint?: string;
  }): Promise<HubInstanceInfo> {
    return this.call("POST", "/instances", `creating ${input.owner}/${input.name}`, {
      owner: input.owner,
      name: input.name,
      ...(input.storageRoot ? { storage_root: input.storageRoot } : {}),
      ...(input.storageEndpoint ? { storage_endpoint: input.storageEndpoint } : {}),
    });
  }

  deleteInstance(owner: string, name: string): Promise<HubInstanceInfo> {
    return this.call("DELETE", this.instancePath(owner, name), `deleting ${owner}/${name}`);
  }

  collaborators(owner: string, name: string): Promise<HubCollaboratorInfo[]> {
    return this.call(
      "GET",
      `${this.instancePath(owner, name)}/collaborators`,
      `listing collaborators of ${owner}/${name}`,
    );
  }

  setCollaborator(
    owner: string,
    name: string,
    handle: string,
    role: HubRole,
  ): Promise<HubCollaboratorInfo> {
    return this.call(
      "PUT",
      `${this.instancePath(owner, name)}/collaborators/${encodeURIComponent(handle)}`,
      `granting ${handle} a role on ${owner}/${name}`,
      { role },
    );
  }

  async removeCollaborator(owner: string, name: string, handle: string): Promise<void> {
    await this.call(
      "DELETE",
      `${this.instancePath(owner, name)}/collaborators/${encodeURIComponent(handle)}`,
      `removing ${handle} from ${owner}/${name}`,
    );
  }

  /** Every role in a restricted space of owner/name (admins). */
  spaceCollaborators(owner: string, name: string): Promise<HubSpaceCollaboratorInfo[]> {
    return this.call(
      "GET",
      `${this.instancePath(owner, name)}/space-collaborators`,
      `listing space collaborators of ${owner}/${name}`,
    );
  }

  /** Grant a collaborator a role in a restricted space (name or uid), or change it (admins). */
  setSpaceCollaborator(
    owner: string,
    name: string,
    handle: string,
    space: string,
    role: HubRole,
  ): Promise<HubSpaceCollaboratorInfo> {
    return this.call(
      "PUT",
      `${this.instancePath(owner, name)}/space-collaborators/${encodeURIComponent(space)}/${encodeURIComponent(handle)}`,
      `granting ${handle} a role in space ${space} of ${owner}/${name}`,
      { role },
    );
  }

  async removeSpaceCollaborator(
    owner: string,
    name: string,
    handle: string,
    space: string,
  ): Promise<void> {
    await this.call(
      "DELETE",
      `${this.instancePath(owner, name)}/space-collaborators/${encodeURIComponent(space)}/${encodeURIComponent(handle)}`,
      `removing ${handle} from space ${space} of ${owner}/${name}`,
    );
  }

  private instancePath(owner: string, name: string): string {
    return `/instances/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  }
}

// ---- the saved login ----

export interface HubLogin {
  hub: string;
  key: string;
  handle: string;
}

export const hubLoginFile = () => join(laminHome(), "hub.json");

export function saveHubLogin(login: HubLogin): void {
  const path = hubLoginFile();
  mkdirSync(join(path, ".."), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  // holds a secret: readable by the owner only
  writeFileSync(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The saved login, or LAMIN_HUB_URL + LAMIN_API_KEY when both are set (they win). */
export function loadHubLogin(env: NodeJS.ProcessEnv = process.env): HubLogin | undefined {
  if (env.LAMIN_HUB_URL && env.LAMIN_API_KEY) {
    return { hub: env.LAMIN_HUB_URL.replace(/\/+$/, ""), key: env.LAMIN_API_KEY, handle: "" };
  }
  const path = hubLoginFile();
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as HubLogin;
}

/** Forget the saved login; whether there was one. */
export function removeHubLogin(): boolean {
  const path = hubLoginFile();
  const had = existsSync(path);
  rmSync(path, { force: true });
  return had;
}

/** The login, or a clear error that says how to log in. */
export function requireHubLogin(): HubLogin {
  const login = loadHubLogin();
  if (!login) {
    throw new LaminError(
      "unauthenticated",
      "not logged in to a hub",
      "run `lamin login --hub URL --key KEY` (or set LAMIN_HUB_URL and LAMIN_API_KEY)",
    );
  }
  return login;
}

/** A client for the saved login. */
export function hubClient(login: HubLogin = requireHubLogin()): HubClient {
  return new HubClient(login.hub, login.key);
}
