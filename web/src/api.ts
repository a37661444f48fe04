/**
 * The UI's only way to data: the instance API (or the hub's), with the browser's session cookie
 * and the header that marks requests from this UI (the server requires it for cookie writes).
 */

export const CSRF_HEADER = "x-lamin-csrf";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Listener = () => void;
const signedOut = new Set<Listener>();
/** Called when the API answers 401: the session ended; the app shows the sign-in form. */
export function onSignedOut(listener: Listener): () => void {
  signedOut.add(listener);
  return () => signedOut.delete(listener);
}

export type Query = Record<string, string | number | boolean | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== "") params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

export async function request(
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(CSRF_HEADER, "1");
  if (!headers.has("accept")) headers.set("accept", "application/json");
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const res = await fetch(path, { ...init, headers, body, credentials: "same-origin" });
  if (!res.ok && res.status !== 206) {
    const problem = (await res.json().catch(() => undefined)) as
      | { detail?: string; hint?: string }
      | undefined;
    if (res.status === 401) for (const l of signedOut) l();
    throw new ApiError(
      res.status,
      problem?.detail ?? `${res.status} ${res.statusText}`,
      problem?.hint,
    );
  }
  return res;
}

export async function getJson<T>(path: string, query?: Query): Promise<T> {
  return (await request(withQuery(path, query))).json() as Promise<T>;
}

export async function sendJson<T>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await request(path, { method, ...(json !== undefined ? { json } : {}) });
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/**
 * Where an artifact's bytes are read: on object storage a short-lived presigned URL (read from
 * storage itself, without this page's session: the bytes never pass through the API), on local
 * storage the API's download route.
 */
export interface ByteSource {
  url: string;
  direct: boolean;
}

/** The byte source of a download route (`.../download` or `.../files/{path}`). */
export async function byteSource(route: string): Promise<ByteSource> {
  const src = await getJson<ByteSource>(route, { url: "true" });
  // not direct: the bytes come from the route this page already addresses
  return src.direct ? src : { url: route, direct: false };
}

/** An artifact's bytes (a range of them with `range`), from wherever its source says. */
export async function readBytes(
  src: ByteSource,
  range?: { start: number; end: number },
): Promise<ArrayBuffer> {
  const headers: Record<string, string> = range
    ? { range: `bytes=${range.start}-${range.end}` }
    : {};
  if (!src.direct)
    return (await request(src.url, { headers: { ...headers, accept: "*/*" } })).arrayBuffer();
  const res = await fetch(src.url, { headers, credentials: "omit", cache: "no-store" });
  if (!res.ok) throw new ApiError(res.status, `storage answered ${res.status} ${res.statusText}`);
  return res.arrayBuffer();
}

/** Bytes `start` to `end` (inclusive) of an artifact's content, read by a range request. */
export async function readRange(src: ByteSource, start: number, end: number): Promise<ArrayBuffer> {
  return readBytes(src, { start, end });
}

// ------------------------------------------------------------------ records

export interface Artifact {
  uid: string;
  key: string | null;
  description: string | null;
  suffix: string;
  kind: string | null;
  otype: string | null;
  size: number | null;
  hash: string | null;
  hash_type: string | null;
  n_files: number | null;
  n_observations: number | null;
  version: string;
  version_tag: string | null;
  is_latest: boolean;
  branch: string;
  storage: string;
  path: string;
  created_at: string;
  updated_at: string;
  created_by: string;
  run: string | null;
  /** Name of the space the artifact is in (who may see it). */
  space: string;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

export interface Annotation {
  features: Record<string, unknown>;
  ulabels: string[];
  projects: string[];
  records: string[];
  /** The schema of each slot the artifact was validated against, when it was. */
  schemas?: { slot: string | null; uid: string; name: string | null }[];
}

export interface LineageNode {
  id: string;
  type: "artifact" | "collection" | "run" | "transform";
  label: string;
  depth: number;
}

export interface LineageGraph {
  root: string;
  nodes: LineageNode[];
  edges: { from: string; to: string; kind: string }[];
}

export interface FieldInfo {
  type: string;
  nullable: boolean;
  doc?: string;
  ref?: string;
}

export interface RegistryInfo {
  name: string;
  plural: string;
  title: string;
  doc: string;
  uid: { length: number; stem?: number };
  fields: Record<string, FieldInfo>;
  filters: string[];
  search: string[];
}

export type Role = "read" | "write" | "admin" | "owner";
export const canWrite = (role: Role | undefined) =>
  role === "write" || role === "admin" || role === "owner";
