/** Request and response shapes of the API, as zod schemas: validation and OpenAPI in one place. */
import { z } from "@hono/zod-openapi";
import { ARTIFACT_SORT_FIELDS } from "../../core/registry/artifacts/artifacts.js";
import { ArtifactModel } from "../../core/registry/artifacts/model.js";
import { ORDER_FIELDS } from "../../core/registry/model/paging.js";
import { recordSchema } from "./model-schemas.js";

export const Problem = z
  .object({
    type: z.string().openapi({ example: "urn:lamindb-serverless:problem:validation" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    hint: z.string().optional(),
    report: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "schema validation: the ValidationReport of the data" }),
  })
  .openapi("Problem");

/** An artifact as the API answers it: derived from its declaration (core/registry/artifacts/model.ts). */
export const Artifact = recordSchema(ArtifactModel);

/** A page of `item`s, with the cursor of the next page (if any). */
export const page = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), next_cursor: z.string().optional() }).openapi(name);

export const ArtifactPage = page(Artifact, "ArtifactPage");

export const Uid = z
  .string()
  .regex(
    /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/,
    "an artifact uid: 20 base62 characters (16 for the latest version)",
  )
  .openapi({ param: { name: "uid", in: "path" }, example: "xdvTyeyFnBaKhERh0000" });

const boolString = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** The paging parameters of every list query. */
export const pagingParams = {
  limit: z.coerce.number().int().min(1).max(10_000).optional().openapi({ example: 50 }),
  cursor: z.string().max(512).optional(),
  order_by: z
    .enum([...ORDER_FIELDS, ...ORDER_FIELDS.map((f) => `-${f}` as const)])
    .optional()
    .openapi({ example: "-created_at" }),
};

const artifactOrder = [...ORDER_FIELDS, ...ARTIFACT_SORT_FIELDS];

export const ListQuery = z
  .object({
    ...pagingParams,
    // artifacts also order by key, size and suffix (the web UI's sortable columns)
    order_by: z
      .enum([...artifactOrder, ...artifactOrder.map((f) => `-${f}` as const)])
      .optional()
      .openapi({ example: "-created_at" }),
    all_versions: boolString.optional(),
    trash: boolString.optional(),
  })
  // every other parameter is a filter lookup: key__startswith=raw/, size__gt=1000, ...
  .catchall(z.string().max(4096))
  .openapi({
    description:
      "filters: any field__operator=value (see the README's query language); ulabels__name=..., projects__name=... for labels; feature.<name>[__operator]=value for feature values",
  });

export const UpdateBody = z
  .object({
    description: z.string().max(10_000).nullable().optional(),
    key: z.string().min(1).max(1024).optional(),
    space: z.string().min(1).max(100).optional().openapi({
      description: "move this version into the space (name or uid); needs write in both spaces",
    }),
  })
  .strict()
  .openapi("ArtifactUpdate");

export const UploadBody = z
  .object({
    name: z.string().min(1).max(255).openapi({ example: "counts.csv" }),
    size: z.number().int().min(0),
    hash: z.string().length(22),
    hash_type: z.enum(["md5", "sha1-fl", "md5-d"]),
    n_files: z.number().int().min(1).optional(),
    key: z.string().min(1).max(1024).optional(),
    description: z.string().max(10_000).optional(),
    kind: z.string().max(20).optional(),
    version_tag: z.string().max(30).optional(),
    space: z.string().min(1).max(100).optional().openapi({
      description:
        "the space to save it in, by name or uid (default: all); you need write in that space",
    }),
    schema: z.string().min(1).max(150).optional().openapi({
      description:
        "validate against this schema (name or uid) and link it with the values LaminDB annotates; nothing is registered when the stored bytes do not validate (validate first: POST /schemas/{ref}/validate)",
    }),
  })
  .strict()
  .openapi("UploadRequest");

export const UploadTicket = z
  .object({
    status: z.enum(["pending", "existing", "restored", "created", "new-version", "repaired"]),
    outcome: z
      .enum(["created", "new-version"])
      .optional()
      .openapi({ description: "for a pending upload: what completing it makes" }),
    artifact: Artifact,
    note: z.string().optional(),
    upload: z
      .object({
        method: z.literal("PUT"),
        /** files: PUT the bytes here. */
        url: z.string().optional(),
        /** true: `url` is a presigned storage URL; send no Authorization header to it. */
        direct: z.boolean().optional(),
        /** folders: PUT each file to this URL with {path} replaced by the URL-encoded relative path. */
        file_url_template: z.string().optional(),
        complete_url: z.string(),
      })
      .optional(),
  })
  .openapi("UploadTicket");

export const FolderManifest = z
  .object({
    artifact: Artifact,
    files: z.array(z.object({ path: z.string(), size: z.number().int(), url: z.string() })),
  })
  .openapi("FolderManifest");
