/**
 * Where a hub may put an instance's storage, and through which endpoint it reaches it: only
 * inside the storage areas its operator configured (the default storage, an allow-list of
 * `s3://bucket/prefix`, `gs://bucket/prefix` and absolute folders), never overlapping the hub's
 * own folders, and only
 * through the endpoints the operator configured. A caller's storage root is normalised first
 * (no relative paths, no `.` or `..`, no `file://`, symlinks resolved for folders) and must lie
 * strictly inside an area. Everything is checked before anything is created; the hub itself
 * checks the other instances' storage (provision.ts).
 */
import { lstatSync, readdirSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { LaminError, ValidationError } from "../errors.js";
import { STORAGE_MARKER_KEY } from "../storage/types.js";

/** A place the operator lets instances be created in; buckets (S3, GCS) may name their endpoint. */
export interface StorageArea {
  root: string;
  endpoint?: string;
}

export interface StorageConfig {
  /** Where instances go when their creator names no storage: `<root>/<owner>/<name>`. */
  default?: StorageArea;
  /** Further places instances may be created in (strictly inside one of them). */
  allow?: StorageArea[];
  /** Local folders no instance may overlap: the hub's database folder, its LAMIN_HOME. */
  reserved?: string[];
}

/** Where a new instance's storage goes, and the endpoint it is reached through. */
export interface PlacedStorage {
  root: string;
  endpoint?: string;
}

type Location =
  | { kind: "local"; path: string }
  | { kind: "s3" | "gs"; bucket: string; prefix: string; root: string };

const SETTING = "LAMIN_HUB_STORAGE_ALLOW (or --storage-allow)";

/**
 * An allow-list as operators write it: roots separated by commas, a bucket root optionally
 * followed by `@` and its endpoint (`s3://lab/data@http://127.0.0.1:9000,gs://lab-gcs/data,/srv/lamin`).
 */
export function parseStorageAreas(list: string): StorageArea[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const at = entry.search(/@https?:\/\//i);
      return at < 0 ? { root: entry } : { root: entry.slice(0, at), endpoint: entry.slice(at + 1) };
    });
}

const outside = (raw: string, hint: string) =>
  new LaminError("permission", `the storage '${raw}' is outside what this hub allows`, hint);

export class StoragePolicy {
  private readonly areas: { area: StorageArea; at: Location }[];
  private readonly fallback: { area: StorageArea; at: Location } | undefined;
  private readonly reserved: string[];

  constructor(config: StorageConfig) {
    const checked = (area: StorageArea, what: string) => {
      const at = parseLocation(area.root, what);
      if (area.endpoint !== undefined) {
        if (
          at.kind === "local" ||
          !/^https?:\/\//i.test(area.endpoint) ||
          !URL.canParse(area.endpoint)
        ) {
          throw new ValidationError(
            `${what}: the endpoint '${area.endpoint}' of '${area.root}' is not an http(s) URL of S3 or GCS storage`,
            "write s3://bucket/prefix@http://host:port (or gs://...), or leave the endpoint out",
          );
        }
      }
      return { area: { ...area, root: rootOf(at) }, at };
    };
    this.fallback = config.default ? checked(config.default, "the default storage") : undefined;
    this.areas = [
      ...(this.fallback ? [this.fallback] : []),
      ...(config.allow ?? []).map((a) => checked(a, SETTING)),
    ];
    this.reserved = (config.reserved ?? []).map((r) => resolve(r));
  }

  /** The areas, as messages show them. */
  describe(): string[] {
    return this.areas.map(({ area }) => area.root);
  }

  /**
   * The storage of a new instance `owner/name`: the caller's root (checked), or the default
   * area's `<root>/<owner>/<name>`. Throws a ValidationError (400) for a malformed request and a
   * permission error (403) for a place the hub does not allow; reads the file system only.
   */
  place(
    owner: string,
    name: string,
    requested: { root?: string | undefined; endpoint?: string | undefined } = {},
  ): PlacedStorage {
    if (requested.root === undefined) {
      if (!this.fallback) {
        throw new ValidationError(
          "this hub has no default storage: name one",
          this.areas.length > 0
            ? `pass --storage with a folder of its own inside ${this.describe().join(" or ")}`
            : "ask the hub's operator to allow storage (lamin hub serve --storage-allow, or LAMIN_HUB_DEFAULT_STORAGE)",
        );
      }
      const { area, at } = this.fallback;
      const root =
        at.kind === "local" ? join(area.root, owner, name) : `${area.root}/${owner}/${name}`;
      return this.checked(root, parseLocation(root, "the default storage"), requested.endpoint);
    }
    return this.checked(requested.root, parseLocation(requested.root), requested.endpoint);
  }

  private checked(raw: string, at: Location, endpoint: string | undefined): PlacedStorage {
    const real = at.kind === "local" ? { ...at, path: realDeep(at.path) } : at;
    const matches = this.areas.filter((a) => strictlyInside(real, areaReal(a.at)));
    // the most specific area names the endpoint: the operator's, never the caller's
    const area = matches.reduce<StorageArea | undefined>(
      (best, m) => (best && best.root.length >= m.area.root.length ? best : m.area),
      undefined,
    );
    if (endpoint !== undefined && !sameEndpoint(endpoint, area?.endpoint)) {
      throw new ValidationError(
        "the storage endpoint is set by the hub's operator, not by the request",
        "leave out --endpoint-url (storage_endpoint): the hub reaches storage only through the endpoints it was configured with",
      );
    }
    if (this.areas.length === 0) {
      throw outside(
        raw,
        "this hub allows no storage yet: its operator allows some with lamin hub serve --storage-allow (or LAMIN_HUB_STORAGE_ALLOW)",
      );
    }
    const hint = `name a location of its own inside ${this.describe().join(" or ")}`;
    if (!area) {
      if (this.areas.some((a) => same(real, areaReal(a.at)))) {
        throw new LaminError(
          "permission",
          `the storage '${raw}' is a whole storage area of this hub: an instance takes a folder inside it`,
          hint,
        );
      }
      throw outside(raw, hint);
    }
    if (real.kind === "local") {
      // (where the hub's own files are is not the caller's to learn: the hint does not say)
      if (this.reserved.some((r) => overlaps(real.path, realDeep(r)))) {
        throw new LaminError(
          "permission",
          `the storage '${raw}' overlaps the hub's own files`,
          `choose a folder apart from them: ${hint}`,
        );
      }
    }
    return { root: rootOf(real), ...(area.endpoint ? { endpoint: area.endpoint } : {}) };
  }
}

/** A storage root as a location: an absolute folder, `s3://` or `gs://bucket/prefix`, well formed. */
function parseLocation(raw: string, what = "the storage"): Location {
  if (typeof raw !== "string" || raw.trim() === "") {
    throw new ValidationError(
      `${what} is empty`,
      "give an absolute folder, s3://bucket/prefix or gs://bucket/prefix",
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(raw)) {
    throw new ValidationError(
      `${what} '${JSON.stringify(raw)}' has a control character`,
      "remove it",
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === "s3" || scheme === "gs") return parseBucket(raw, what, scheme);
  if (scheme === "file") {
    throw new ValidationError(
      `${what} '${raw}' is a file: URL`,
      "give the folder's absolute path instead (no file://)",
    );
  }
  if (scheme !== undefined && scheme.length > 1) {
    throw new ValidationError(
      `${what} '${raw}': ${scheme}:// storage is not supported`,
      "use an absolute folder, s3://bucket/prefix or gs://bucket/prefix",
    );
  }
  if (!isAbsolute(raw)) {
    throw new ValidationError(
      `${what} '${raw}' is a relative path`,
      "give an absolute path (lamin init owner/name --storage ./dir resolves it for you)",
    );
  }
  checkSegments(raw.split(/[/\\]/).slice(1), raw, what);
  return { kind: "local", path: resolve(raw) };
}

function parseBucket(raw: string, what: string, kind: "s3" | "gs"): Location {
  const m = new RegExp(`^${kind}:\\/\\/([^/]*)(?:\\/(.*))?$`, "i").exec(raw);
  const bucket = m?.[1] ?? "";
  // S3's rules; GCS also allows '_'
  const name =
    kind === "s3" ? /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ : /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
  if (!name.test(bucket)) {
    throw new ValidationError(
      `${what} '${raw}' is not ${kind === "s3" ? "an S3" : "a GCS"} root`,
      `write it as ${kind}://bucket/prefix (a bucket name is lower-case letters, digits, '.' and '-'${kind === "gs" ? ", '_'" : ""})`,
    );
  }
  const prefix = (m?.[2] ?? "").replace(/\/$/, "");
  if (prefix !== "") checkSegments(prefix.split("/"), raw, what);
  if (prefix.includes("\\")) {
    throw new ValidationError(`${what} '${raw}' has a backslash`, "use / between segments");
  }
  return { kind, bucket, prefix, root: `${kind}://${bucket}${prefix ? `/${prefix}` : ""}` };
}

/** No `.` or `..` (nothing to normalise away), no empty segment. */
function checkSegments(segments: string[], raw: string, what: string): void {
  const inner = segments.at(-1) === "" ? segments.slice(0, -1) : segments;
  if (inner.some((s) => s === "..")) {
    throw new ValidationError(`${what} '${raw}' has a '..' segment`, "name the folder directly");
  }
  if (inner.some((s) => s === ".")) {
    throw new ValidationError(`${what} '${raw}' has a '.' segment`, "name the folder directly");
  }
  if (inner.some((s) => s === "")) {
    throw new ValidationError(`${what} '${raw}' has an empty segment (//)`, "remove the extra /");
  }
}

const rootOf = (at: Location) => (at.kind === "local" ? at.path : at.root);

/** An area with its folder's symlinks resolved (it may not exist yet). */
const areaReal = (at: Location): Location =>
  at.kind === "local" ? { ...at, path: realDeep(at.path) } : at;

function strictlyInside(child: Location, parent: Location): boolean {
  if (child.kind === "local" && parent.kind === "local") return within(child.path, parent.path);
  if (child.kind !== "local" && parent.kind === child.kind) {
    if (child.bucket !== parent.bucket || child.prefix === "") return false;
    return parent.prefix === "" || child.prefix.startsWith(`${parent.prefix}/`);
  }
  return false;
}

const same = (a: Location, b: Location) => rootOf(a) === rootOf(b) && a.kind === b.kind;

/** Whether folder `child` lies strictly below folder `parent`. */
function within(child: string, parent: string): boolean {
  const base = parent.endsWith(sep) ? parent : parent + sep;
  return child !== parent && child.startsWith(base);
}

const overlaps = (a: string, b: string) => a === b || within(a, b) || within(b, a);

/**
 * `path` with the symlinks of its existing part resolved (the rest does not exist yet, so it
 * holds no link). A link that points nowhere is refused: a folder made through it would land
 * wherever it comes to point.
 */
function realDeep(path: string): string {
  const rest: string[] = [];
  let head = path;
  for (;;) {
    if (entry(head)) {
      let real: string;
      try {
        real = realpathSync.native(head);
      } catch {
        throw new ValidationError(
          `the storage '${path}' goes through a link that points nowhere`,
          "choose a folder that is not (below) a broken link",
        );
      }
      return rest.length > 0 ? join(real, ...rest.reverse()) : real;
    }
    const parent = dirname(head);
    if (parent === head) return path;
    rest.push(basename(head));
    head = parent;
  }
}

/**
 * A hub hands out what an instance's storage holds (downloads, reconcile): so a local one
 * starts in a new or empty folder that is not inside another instance's storage (one made by
 * `lamin init` and never recorded in this hub included). For a root {@link StoragePolicy.place}
 * returned.
 */
export function assertFreshFolder(root: string): void {
  for (let dir = dirname(root); dir !== dirname(dir); dir = dirname(dir)) {
    if (entry(join(dir, STORAGE_MARKER_KEY))) {
      throw new LaminError(
        "permission",
        `the storage '${root}' lies inside another instance's storage`,
        "name a folder outside every instance's storage",
      );
    }
  }
  const stat = entry(root);
  if (stat && !stat.isDirectory()) {
    throw new ValidationError(`the storage '${root}' is a file`, "name a folder");
  }
  if (stat && readdirSync(root).length > 0) {
    throw new LaminError(
      "permission",
      `the storage '${root}' already holds files, which are not this hub's to hand out`,
      "name a new or empty folder; save files into the instance once it exists",
    );
  }
}

/** What is at `path` (a link itself, not followed); undefined where nothing can be. */
function entry(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function sameEndpoint(given: string, configured: string | undefined): boolean {
  if (configured === undefined || !URL.canParse(given)) return false;
  return new URL(given).href === new URL(configured).href;
}
