/**
 * lamindb-serverless, the package: LaminDB's registries in TypeScript, on an instance in this
 * process (embedded PGlite or a Postgres URL) or on a server over HTTPS, with one interface.
 *
 * ```ts
 * import { connect } from "lamindb-serverless";
 * const ln = await connect();                                    // the current local instance
 * const remote = await connect("https://lamin.example.org", { token: process.env.LAMIN_API_TOKEN });
 * const shared = await connect("alice/lab");         // through the hub of `lamin login`
 * const { items } = await remote.artifacts.list({ filter: { key__startswith: "raw/" } });
 * ```
 */
import type { Instance, OpenOptions } from "../core/instance.js";
import { openInstance } from "../core/setup.js";
import { HubClient, loadHubLogin, parseSlug } from "./hub.js";
import { RemoteInstance } from "./remote.js";

export * from "../core/index.js";
export { HubClient, type HubLogin, loadHubLogin } from "./hub.js";
export { RemoteArtifacts, RemoteInstance, type RemoteOptions } from "./remote.js";

export interface ConnectOptions extends OpenOptions {
  /** Access token, for a server URL (default: LAMIN_API_TOKEN). */
  token?: string;
}

/**
 * Open an instance: a local one by name (default: the current one), a server by URL, or
 * `owner/name` through the hub of the saved login (`lamin login`).
 * Both answer the same `artifacts` operations; close them when done.
 */
export function connect(
  url: `http://${string}` | `https://${string}`,
  opts?: ConnectOptions,
): Promise<RemoteInstance>;
/** `owner/name`: remote when logged in to a hub, else the local instance of that name. */
export function connect(
  slug: `${string}/${string}`,
  opts?: OpenOptions,
): Promise<Instance | RemoteInstance>;
export function connect(name?: string, opts?: OpenOptions): Promise<Instance>;
export function connect(target?: string, opts?: ConnectOptions): Promise<Instance | RemoteInstance>;
export async function connect(
  target?: string,
  opts: ConnectOptions = {},
): Promise<Instance | RemoteInstance> {
  if (target && /^https?:\/\//i.test(target)) {
    const token = opts.token ?? process.env.LAMIN_API_TOKEN;
    if (!token) {
      const { ValidationError } = await import("../core/errors.js");
      throw new ValidationError(
        `connecting to ${target} needs an access token`,
        "pass { token } or set LAMIN_API_TOKEN",
      );
    }
    return new RemoteInstance(target, { token });
  }
  const slug = target ? parseSlug(target) : undefined;
  const login = slug ? loadHubLogin() : undefined;
  if (slug && login) {
    // owner/name on the hub this machine is logged in to (lamin login)
    const hub = new HubClient(login.hub, login.key);
    const record = await hub.instance(slug.owner, slug.name);
    return new RemoteInstance(hub.instanceUrl(record.owner, record.name), { token: login.key });
  }
  return openInstance(target, opts);
}
