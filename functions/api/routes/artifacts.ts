/**
 * /artifacts: list, get, versions, update, trash, restore, delete for good, upload, download.
 * Handlers are thin: they validate at the edge (zod) and call the registry of `c.var.instance`.
 *
 * An upload with `schema` (lamin save FILE --schema NAME over HTTP) is validated where the
 * registries are, against the bytes that were stored and verified, not against what a client
 * says the file holds: on completion (or at once, when the content is already saved) the server
 * reads the stored file (a folder, for a composite schema: its slot files) and runs the
 * in-process `saveWithSchema`, which checks before it registers and then links the schema and the
 * values LaminDB annotates. Invalid bytes are removed with their upload (`abortUpload`: other
 * versions stay) and nothing is registered. Clients validate first (POST
 * /schemas/{ref}/validate), so a bad file is refused before any byte is sent; the check here is
 * the one that cannot be skipped.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  IntegrityError,
  LaminError,
  NotFoundError,
  ValidationError,
} from "../../../core/errors.js";
import type { Instance } from "../../../core/instance.js";
import {
  type Artifact as ArtifactRecord,
  physicalKey,
} from "../../../core/registry/artifacts/artifacts.js";
import { COMPOSITE } from "../../../core/registry/schemas/schemas.js";
import type { Issue } from "../../../core/registry/schemas/validate.js";
import {
  attachmentDisposition,
  type ByteRange,
  LinkedKeyError,
  presignedOrNone,
} from "../../../core/storage/types.js";
import { encodePathSegments } from "../../../core/util/url-path.js";
import type { ApiEnv } from "../env.js";
import { body, json, listOptions, problems, splitFeatureParams, toPage } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";
import {
  Artifact,
  ArtifactPage,
  FolderManifest,
  ListQuery,
  Uid,
  UpdateBody,
  UploadBody,
  UploadTicket,
} from "../schemas.js";

const uidParam = z.object({ uid: Uid });
/** A file inside a folder artifact: its URL-encoded relative path. */
const fileParams = z.object({ uid: Uid, path: z.string().min(1).max(1024) });
const binary = z.string().openapi({ format: "binary" });
const DownloadQuery = z.object({
  /** Older clients asked for the redirect; object storage now always answers one. */
  redirect: z.enum(["true", "false"]).optional(),
  url: z.enum(["true", "false"]).optional(),
});
const DownloadUrl = z
  .object({
    url: z.string(),
    /** true: a presigned storage URL (send no Authorization header); false: this API's route. */
    direct: z.boolean(),
    /** Seconds the presigned URL stays valid (direct URLs only). */
    expires_in: z.number().int().optional(),
  })
  .openapi("DownloadUrl");
const tags = ["artifacts"];

const list = createRoute({
  method: "get",
  path: "/artifacts",
  middleware: requires("read"),
  tags,
  summary: "List artifacts (latest versions, newest first) with filters and a cursor",
  request: { query: ListQuery },
  responses: { 200: json(ArtifactPage, "a page of artifacts"), ...problems(400, 401) },
});

const byKey = createRoute({
  method: "get",
  path: "/artifacts/by-key",
  middleware: requires("read"),
  tags,
  summary: "The latest artifact with a key",
  request: {
    query: z.object({ key: z.string().min(1).max(1024).openapi({ example: "raw/counts.csv" }) }),
  },
  responses: { 200: json(Artifact, "the artifact"), ...problems(400, 401, 404) },
});

const get = createRoute({
  method: "get",
  path: "/artifacts/{uid}",
  middleware: requires("read"),
  tags,
  summary: "One artifact; a 16-character stem gives the latest version",
  request: { params: uidParam },
  responses: { 200: json(Artifact, "the artifact"), ...problems(400, 401, 404) },
});

const versions = createRoute({
  method: "get",
  path: "/artifacts/{uid}/versions",
  middleware: requires("read"),
  tags,
  summary: "Every version of the artifact's family, newest first",
  request: { params: uidParam },
  responses: { 200: json(z.array(Artifact), "the versions"), ...problems(400, 401, 404) },
});

const update = createRoute({
  method: "patch",
  path: "/artifacts/{uid}",
  middleware: requires("write"),
  tags,
  summary:
    "Change the description or the key (the bytes of an artifact registered in place move with its key)",
  request: { params: uidParam, ...body(UpdateBody) },
  responses: { 200: json(Artifact, "the artifact"), ...problems(400, 401, 404, 409, 413, 422) },
});

/** Trashing is a write; deleting for good (any `permanent` but a lone "false") is an admin's. */
const permanentNeedsAdmin = (c: Context) =>
  (c.req.queries("permanent") ?? []).some((v) => v !== "false")
    ? ("admin" as const)
    : ("write" as const);

const remove = createRoute({
  method: "delete",
  path: "/artifacts/{uid}",
  middleware: requires(permanentNeedsAdmin),
  tags,
  summary: "Move to the trash; permanent=true deletes row and bytes",
  request: {
    params: uidParam,
    query: z.object({ permanent: z.enum(["true", "false"]).optional() }),
  },
  responses: {
    200: json(Artifact, "the artifact as it was"),
    ...problems(400, 401, 403, 404, 409),
  },
});

const restore = createRoute({
  method: "post",
  path: "/artifacts/{uid}/restore",
  middleware: requires("write"),
  tags,
  summary: "Bring an artifact back from the trash",
  request: { params: uidParam },
  responses: { 200: json(Artifact, "the artifact"), ...problems(400, 401, 404, 409) },
});

const startUpload = createRoute({
  method: "post",
  path: "/artifacts/uploads",
  middleware: requires("write"),
  tags,
  summary: "Declare bytes to upload; the same content returns the existing artifact",
  description:
    "Hash the file or folder with LaminDB's hash first. A `pending` answer says where to PUT the bytes and where to complete the upload; the bytes never pass through this API on the cloud path.",
  request: body(UploadBody),
  responses: {
    200: json(UploadTicket, "existing artifact, or where to upload"),
    ...problems(400, 401, 409, 413),
  },
});

const putContent = createRoute({
  method: "put",
  path: "/artifacts/uploads/{uid}/content",
  middleware: requires("write"),
  tags,
  summary: "The bytes of a pending file upload (local-folder storage only)",
  request: { params: uidParam },
  responses: { 204: { description: "stored" }, ...problems(400, 401, 404, 409, 413) },
});

const putFile = createRoute({
  method: "put",
  path: "/artifacts/uploads/{uid}/files/{path{.+}}",
  middleware: requires("write"),
  tags,
  summary:
    "One file of a pending folder upload; path is its relative path, each segment URL-encoded (local-folder storage only)",
  request: { params: fileParams },
  responses: { 204: { description: "stored" }, ...problems(400, 401, 404, 409, 413) },
});

const complete = createRoute({
  method: "post",
  path: "/artifacts/uploads/{uid}/complete",
  middleware: requires("write"),
  tags,
  summary: "Verify the uploaded bytes against the declared hash and register them",
  description:
    "With `schema` (the ticket's complete_url carries it), the stored file (or a folder's slot files, for a composite schema) is validated first: invalid bytes are removed with this upload, other versions stay, and 400 has the report.",
  request: {
    params: uidParam,
    query: z.object({
      schema: z.string().min(1).max(150).optional().openapi({ example: "samples" }),
    }),
  },
  responses: { 200: json(Artifact, "the registered artifact"), ...problems(400, 401, 404, 422) },
});

const download = createRoute({
  method: "get",
  path: "/artifacts/{uid}/download",
  middleware: requires("read"),
  tags,
  summary: "The bytes of a file artifact, or the file list of a folder artifact",
  description:
    "On object storage (S3, GCS) a file's bytes never pass through the API: the answer is a 302 to a short-lived presigned URL of them, answered as a download (send no Authorization header there; a `Range` header is honoured by storage). `url=true` answers that URL as JSON instead (`direct: true`); on local storage (and storage that cannot sign) the bytes are streamed, and `url=true` names this route (`direct: false`). A `Range: bytes=...` header reads part of a file (206). `redirect` is accepted for older clients and changes nothing.",
  request: {
    params: uidParam,
    query: DownloadQuery,
  },
  responses: {
    200: {
      content: {
        "application/octet-stream": { schema: binary },
        "application/json": { schema: FolderManifest.or(DownloadUrl) },
      },
      description: "the bytes, a folder's manifest, or (url=true) where to read the bytes",
    },
    302: { description: "object storage: the bytes are at the presigned URL in Location" },
    ...problems(400, 401, 404, 422),
  },
});

const downloadFile = createRoute({
  method: "get",
  path: "/artifacts/{uid}/files/{path{.+}}",
  middleware: requires("read"),
  tags,
  summary: "One file of a folder artifact; path is its relative path, each segment URL-encoded",
  description:
    "As /artifacts/{uid}/download: on object storage a 302 to a presigned URL of the file (`url=true`: that URL as JSON); on local storage the bytes.",
  request: { params: fileParams, query: DownloadQuery },
  responses: {
    200: {
      content: {
        "application/octet-stream": { schema: binary },
        "application/json": { schema: DownloadUrl },
      },
      description: "the bytes, or (url=true) where to read them",
    },
    302: { description: "object storage: the bytes are at the presigned URL in Location" },
    ...problems(400, 401, 404, 422),
  },
});

/** A relative path inside a folder artifact: no way out of it. */
function safeRelativePath(path: string): string {
  const parts = path.split("/");
  if (
    path.startsWith("/") ||
    path.includes("\\") ||
    parts.some((p) => p === "" || p === "." || p === "..")
  ) {
    throw new ValidationError(
      `invalid file path '${path}'`,
      "give a relative path inside the folder, without '.' or '..'",
    );
  }
  return path;
}

/** `base`: the path prefix of the routes, fixed or per request (see ApiOptions.basePath). */
export function artifactRoutes(base: string | ((c: Context) => string) = "") {
  const baseOf = (c: Context) => (typeof base === "string" ? base : base(c));
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(list, async (c) => {
      const { all_versions, trash, ...params } = c.req.valid("query");
      // `feature.temperature__gt=30`: a feature-value lookup; everything else a field lookup
      const { query, features } = splitFeatureParams(params);
      const page = await c.var.instance.artifacts.list({
        ...listOptions(query),
        ...(features ? { features } : {}),
        ...(all_versions !== undefined ? { allVersions: all_versions } : {}),
        ...(trash !== undefined ? { trash } : {}),
      });
      return c.json(toPage(page), 200);
    })
    .openapi(byKey, async (c) =>
      c.json(await c.var.instance.artifacts.get({ key: c.req.valid("query").key }), 200),
    )
    .openapi(get, async (c) =>
      c.json(await c.var.instance.artifacts.get(c.req.valid("param").uid), 200),
    )
    .openapi(versions, async (c) =>
      c.json(await c.var.instance.artifacts.versions(c.req.valid("param").uid), 200),
    )
    .openapi(update, async (c) => {
      const body = c.req.valid("json");
      const changes = {
        ...(body.key !== undefined ? { key: body.key } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.space !== undefined ? { space: body.space } : {}),
      };
      return c.json(await c.var.instance.artifacts.update(c.req.valid("param").uid, changes), 200);
    })
    .openapi(remove, async (c) => {
      const permanent = c.req.valid("query").permanent === "true";
      return c.json(
        await c.var.instance.artifacts.delete(c.req.valid("param").uid, { permanent }),
        200,
      );
    })
    .openapi(restore, async (c) =>
      c.json(await c.var.instance.artifacts.restore(c.req.valid("param").uid), 200),
    )
    .openapi(startUpload, async (c) => {
      const { version_tag, schema, ...body } = c.req.valid("json");
      if (schema !== undefined) await checkSchemaUpload(c.var.instance, schema, body);
      const ticket = await c.var.instance.artifacts.prepareUpload({
        ...body,
        ...(version_tag !== undefined ? { versionTag: version_tag } : {}),
      });
      const { uid } = ticket.artifact;
      if (schema !== undefined && !ticket.upload) {
        // the same content is saved already: validate its bytes and link, as in process
        await withSchema(c.var.instance, ticket.artifact, schema, async () => ({
          artifact: ticket.artifact,
          status: ticket.status as "existing",
        }));
      }
      const prefix = `${baseOf(c)}/artifacts/uploads/${uid}`;
      const { storage } = c.var.instance;
      // Object stores take a file's bytes straight from the client (no size limit of the API's
      // host, no second hop); its storage event or the client's complete call registers it.
      // (credentials that cannot sign, e.g. GCS without a service account: through the API)
      const presigned =
        ticket.upload && !ticket.upload.isFolder
          ? await presignedOrNone(storage.presignPut?.(ticket.upload.key, UPLOAD_URL_SECONDS))
          : undefined;
      const upload = ticket.upload && {
        method: "PUT" as const,
        ...(ticket.upload.isFolder
          ? { file_url_template: `${prefix}/files/{path}` }
          : { url: presigned ?? `${prefix}/content` }),
        ...(presigned ? { direct: true } : {}),
        complete_url: `${prefix}/complete${schema !== undefined ? `?schema=${encodeURIComponent(schema)}` : ""}`,
      };
      return c.json(
        {
          status: ticket.status,
          ...(ticket.outcome ? { outcome: ticket.outcome } : {}),
          artifact: ticket.artifact,
          ...(ticket.note ? { note: ticket.note } : {}),
          ...(upload ? { upload } : {}),
        },
        200,
      );
    })
    .openapi(putContent, async (c) => {
      const { target, size } = await pendingTarget(c.var.instance, c.req.valid("param").uid, false);
      await c.var.instance.storage.putStream(target, bodyOf(c.req.raw), size);
      return c.body(null, 204);
    })
    .openapi(putFile, async (c) => {
      const { uid, path } = c.req.valid("param");
      const { target, size } = await pendingTarget(c.var.instance, uid, true);
      await c.var.instance.storage.putStream(
        `${target}/${safeRelativePath(path)}`,
        bodyOf(c.req.raw),
        size,
      );
      return c.body(null, 204);
    })
    .openapi(complete, async (c) => {
      const { instance } = c.var;
      const { uid } = c.req.valid("param");
      const { schema } = c.req.valid("query");
      if (schema === undefined) return c.json(await instance.artifacts.completeUpload(uid), 200);
      const pending = await instance.artifacts.get(uid);
      try {
        const r = await withSchema(instance, pending, schema, async () => ({
          artifact: await instance.artifacts.completeUpload(uid),
          status: "created",
        }));
        return c.json(r.artifact, 200);
      } catch (error) {
        // nothing is registered from bytes that do not validate (the hash check removes its
        // own); only this upload goes: a permanent delete of a folder's latest version would
        // take its other versions along. The report is the answer, whatever the clean-up does.
        if ((error as { report?: unknown }).report && !pending.upload_complete) {
          await instance.artifacts.abortUpload(uid).catch(() => {});
        }
        throw error;
      }
    })
    .openapi(download, async (c) => {
      const { uid } = c.req.valid("param");
      const artifact = await c.var.instance.artifacts.get(uid);
      const key = await downloadableKey(c.var.instance, artifact.uid);
      if (artifact.n_files !== null) {
        const files = await c.var.instance.storage.listFiles(key).catch(missingBytes(artifact.uid));
        return c.json(
          {
            artifact,
            files: files.map((f) => ({
              ...f,
              url: `${baseOf(c)}/artifacts/${artifact.uid}/files/${encodePathSegments(f.path)}`,
            })),
          },
          200,
        );
      }
      const name = artifact.key ?? `${artifact.uid}${artifact.suffix}`;
      const self = `${baseOf(c)}/artifacts/${artifact.uid}/download`;
      const asJson = c.req.valid("query").url === "true";
      const direct = await directAnswer(c, { key, name, self }, asJson);
      if (direct) return direct;
      const range = byteRange(c.req.header("range"), artifact.size);
      if (range === "unsatisfiable") {
        return c.body(null, 416, { "content-range": `bytes */${artifact.size ?? "*"}` });
      }
      const { size, stream } = await c.var.instance.storage
        .openRead(key, range)
        .catch(missingBytes(artifact.uid));
      const headers = {
        ...rawContentHeaders(artifact.key ?? `${artifact.uid}${artifact.suffix}`),
        "x-lamin-hash": `${artifact.hash_type}:${artifact.hash}`,
      };
      if (range) {
        const end = Math.min(range.end ?? size - 1, size - 1);
        return c.body(toWebStream(stream), 206, {
          ...headers,
          "content-range": `bytes ${range.start}-${end}/${size}`,
          "content-length": String(end - range.start + 1),
        });
      }
      return c.body(toWebStream(stream), 200, { ...headers, "content-length": String(size) });
    })
    .openapi(downloadFile, async (c) => {
      const { uid, path } = c.req.valid("param");
      const artifact = await c.var.instance.artifacts.get(uid);
      if (artifact.n_files === null) {
        throw new ValidationError(
          `${artifact.uid} is a file, not a folder`,
          `download it from /artifacts/${artifact.uid}/download`,
        );
      }
      const key = await downloadableKey(c.var.instance, artifact.uid);
      const fileKey = `${key}/${safeRelativePath(path)}`;
      const self = `${baseOf(c)}/artifacts/${artifact.uid}/files/${encodePathSegments(path)}`;
      const asJson = c.req.valid("query").url === "true";
      const direct = await directAnswer(c, { key: fileKey, name: path, self }, asJson);
      if (direct) return direct;
      const { size, stream } = await c.var.instance.storage.openRead(fileKey).catch((error) => {
        if (error instanceof LinkedKeyError) throw error;
        throw new NotFoundError(
          `${artifact.uid} has no file '${path}'`,
          `list its files with /artifacts/${artifact.uid}/download`,
        );
      });
      return c.body(toWebStream(stream), 200, {
        ...rawContentHeaders(path),
        "content-length": String(size),
      });
    });
}

/**
 * Headers of an artifact's raw bytes: never rendered by a browser in the API's origin (the web
 * UI's): saved as a file, not sniffed, and sandboxed (no script, no same origin) if opened anyway.
 */
function rawContentHeaders(name: string): Record<string, string> {
  return {
    "content-type": "application/octet-stream",
    "content-disposition": attachmentDisposition(name),
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox; default-src 'none'",
    "accept-ranges": "bytes",
  };
}

/**
 * One range of a `Range: bytes=...` header (`a-b`, `a-`, `-n`), for previews that read the first
 * rows or a Parquet footer. Undefined: the whole object (no header, several ranges, or one this
 * does not read); "unsatisfiable" when it starts past the end.
 */
export function byteRange(
  header: string | undefined,
  size: number | null,
): ByteRange | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
  if (!m || (m[1] === "" && m[2] === "") || size === null) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix) };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? undefined : Number(m[2]);
  if (end !== undefined && end < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return end === undefined ? { start } : { start, end: Math.min(end, size - 1) };
}

/**
 * What `save --schema` refuses in process before anything is written: an unknown schema, a
 * folder for a table's schema or a file for a composite's, a file format that cannot be
 * validated.
 */
async function checkSchemaUpload(
  instance: Instance,
  schema: string,
  body: { name: string; n_files?: number | undefined },
): Promise<void> {
  const found = await instance.schemas.get(schema);
  const isFolder = body.n_files !== undefined;
  if (found.itype === COMPOSITE) {
    if (isFolder) return;
    throw new ValidationError(
      `schema '${found.name ?? found.uid}' is composite: it validates a folder, ${body.name} is a file`,
      `give a folder with one table file per slot (${found.components.map((c) => `${c.slot}.csv`).join(", ")})`,
    );
  }
  if (isFolder) {
    throw new ValidationError(`${body.name} is not a file`, "validate files, not folders");
  }
  const { formatOf } = await import("../../../core/registry/schemas/validate.js");
  formatOf(body.name);
}

/**
 * `saveWithSchema` over the stored bytes of `artifact` (a temporary copy: storage may be a
 * bucket; of a folder only its top-level table files, which are all its slots can be), with
 * `register` as its save: validated first, registered and linked only if valid. A pending
 * upload is read where its bytes were written.
 */
async function withSchema(
  instance: Instance,
  artifact: ArtifactRecord,
  schema: string,
  register: () => Promise<{ artifact: ArtifactRecord; status: "created" | "existing" }>,
) {
  const row = await instance.artifacts.row(artifact.uid);
  const pending = await instance.artifacts.uploadState(artifact.uid);
  if (!pending && row.overwriteVersions && !row.isLatest) {
    // a folder's versions share one copy: an older one's own files are not in storage any more
    throw new IntegrityError(
      `the files of ${row.uid} were overwritten by a newer version of the folder: they cannot be validated here`,
      "validate where the folder is (lamin validate FOLDER --schema S)",
    );
  }
  const key = pending?.key ?? physicalKey(row);
  const dir = await mkdtemp(join(tmpdir(), "lamin-validate-"));
  // the report names the file as the client knows it: its key's name, else uid and suffix
  const name = (artifact.key ?? `${artifact.uid}${artifact.suffix}`).split("/").pop() as string;
  const path = join(dir, name);
  const { saveWithSchema, SchemaValidationError, slotStem } = await import(
    "../../../core/registry/schemas/validate.js"
  );
  try {
    if (artifact.n_files === null) await instance.storage.getFile(key, path);
    else {
      await mkdir(path);
      for (const f of await instance.storage.listFiles(key)) {
        if (f.path.includes("/") || slotStem(f.path) === undefined) continue;
        await instance.storage.getFile(`${key}/${f.path}`, join(path, f.path));
      }
    }
    try {
      return await saveWithSchema(instance, path, { schema }, register);
    } catch (error) {
      // never a server path in the answer: files are named as in the client's folder
      if (!(error instanceof LaminError && error.message.includes(dir))) throw error;
      const local = (text: string) => text.replaceAll(`${dir}${sep}`, "");
      if (error instanceof SchemaValidationError) {
        const issues = (issues: Issue[]) =>
          issues.map((i) =>
            i.kind === "slot-file" && i.message ? { ...i, message: local(i.message) } : i,
          );
        throw new SchemaValidationError({
          ...error.report,
          file: name,
          issues: issues(error.report.issues),
        });
      }
      throw new LaminError(error.kind, local(error.message), error.hint, { cause: error });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** How long a presigned upload URL is valid. */
const UPLOAD_URL_SECONDS = 3600;
/** How long a presigned download URL is valid: long enough to start the download. */
const DOWNLOAD_URL_SECONDS = 300;

/** Where the bytes of a pending upload go; refuses uploads that are not pending. */
async function pendingTarget(instance: Instance, uid: string, folder: boolean) {
  const ticket = await instance.artifacts.uploadState(uid);
  if (!ticket)
    throw new NotFoundError(`no pending upload ${uid}`, "start one with POST /artifacts/uploads");
  if (ticket.isFolder !== folder) {
    throw new ValidationError(
      folder ? `${uid} is a file upload` : `${uid} is a folder upload`,
      folder ? "PUT the bytes to .../content" : "PUT each file to .../files/{path}",
    );
  }
  return { target: ticket.key, size: ticket.size };
}

async function downloadableKey(instance: Instance, uid: string): Promise<string> {
  const row = await instance.artifacts.row(uid);
  if ((row.aux as { so?: number } | null)?.so === 1) {
    throw new IntegrityError(
      `the bytes of ${uid} were never completely written`,
      "upload them again",
    );
  }
  // the key is read (and signed) in the instance's storage: never for a row of another root
  if (row.storageId !== instance.storageRecord.id) {
    throw new IntegrityError(
      `the bytes of ${uid} are in another storage than ${instance.storageRecord.root}`,
      "load it where that storage is the default one",
    );
  }
  return physicalKey(row);
}

/**
 * Object storage that can sign: a 302 to a short-lived URL of `key` (or, `asJson`, that URL as
 * JSON), so the bytes never pass through the API. The caller's role was checked by the route's
 * `requires` before this signs anything, and `key` is the artifact's own key in the instance's
 * storage. Local storage (no signing) and storage whose credentials cannot sign: undefined,
 * except that `asJson` then names the route itself (direct: false).
 */
async function directAnswer(
  c: Context<ApiEnv>,
  where: { key: string; name: string; self: string },
  asJson: boolean,
): Promise<Response | undefined> {
  const { key, name, self } = where;
  const { storage } = c.var.instance;
  const url = await presignedOrNone(
    storage.presignGet?.(key, DOWNLOAD_URL_SECONDS, { attachment: name }),
  );
  if (url === undefined) return asJson ? c.json({ url: self, direct: false }, 200) : undefined;
  c.header("cache-control", "no-store"); // the URL is a credential for a few minutes
  if (asJson) return c.json({ url, direct: true, expires_in: DOWNLOAD_URL_SECONDS }, 200);
  return c.redirect(url, 302);
}

/**
 * Bytes the registry knows of but storage does not have: a 422, never a 500 with a path. A link
 * where the bytes should be says so (never where it points).
 */
const missingBytes =
  (uid: string) =>
  (error: unknown): never => {
    if (error instanceof LinkedKeyError) throw error;
    throw new IntegrityError(
      `the bytes of ${uid} are missing from storage`,
      "restore them from a backup, or delete the artifact with ?permanent=true",
    );
  };

async function* bodyOf(request: Request): AsyncIterable<Uint8Array> {
  if (!request.body) return;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

function toWebStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
