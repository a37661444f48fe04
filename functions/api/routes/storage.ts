/**
 * The registry against its storage:
 * - POST /events/s3: the webhook that self-hosted S3-compatible servers (MinIO and the like)
 *   call with S3-format notification records, so that uploads to them register like uploads to
 *   AWS do;
 * - POST /reconcile: repair what events missed (see core/ingest/reconcile.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { LaminError } from "../../../core/errors.js";
import { parseS3Notification, type StorageEvent } from "../../../core/ingest/events.js";
import { Ingestor } from "../../../core/ingest/ingest.js";
import { reconcile } from "../../../core/ingest/reconcile.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { requires } from "../roles.js";

const Notification = z
  .object({ Records: z.array(z.record(z.string(), z.unknown())).max(10_000) })
  .passthrough()
  .openapi("S3Notification", {
    description: "An S3 event notification body (MinIO also sends EventName and Key; ignored)",
  });

const Outcome = z
  .object({
    action: z.enum([
      "created",
      "new-version",
      "existing",
      "restored",
      "completed",
      "trashed",
      "stale",
      "duplicate",
      "skipped",
      "ignored",
    ]),
    key: z.string().optional(),
    uid: z.string().optional(),
    reason: z.string().optional(),
  })
  .openapi("IngestOutcome");

const s3Events = createRoute({
  method: "post",
  path: "/events/s3",
  middleware: requires("write"),
  tags: ["events"],
  summary: "Register the objects named by S3 event notifications (webhook for MinIO and the like)",
  request: {
    query: z.object({
      keys: z.enum(["encoded", "raw"]).default("encoded").openapi({
        description: "how object keys are sent: URL-encoded like AWS and MinIO, or raw",
      }),
    }),
    ...body(Notification),
  },
  responses: {
    200: json(z.object({ outcomes: z.array(Outcome) }), "what each record did"),
    ...problems(400, 401, 503),
  },
});

const Change = z
  .object({
    key: z.string(),
    uid: z.string().optional(),
    action: z.string().optional(),
    detail: z.string().optional(),
  })
  .openapi("ReconcileChange");
const ReconcileReport = z
  .object({
    dryRun: z.boolean(),
    registered: z.array(Change),
    changed: z.array(Change),
    trashed: z.array(Change),
    completed: z.array(Change),
    waiting: z.array(Change),
    expired: z.array(Change),
    partial: z.array(Change),
    missingBytes: z.array(Change),
    unclaimed: z.array(z.string()),
    skipped: z.array(Change),
    unchanged: z.number().int(),
  })
  .openapi("ReconcileReport");

const reconcileRoute = createRoute({
  method: "post",
  path: "/reconcile",
  middleware: requires("admin"),
  tags: ["events"],
  summary:
    "Compare storage with the registry: register what is missing, trash what vanished, version what changed",
  request: {
    query: z.object({
      dry_run: z.enum(["true", "false"]).default("false").openapi({
        description: "only report what would change",
      }),
    }),
  },
  responses: { 200: json(ReconcileReport, "what was (or would be) done"), ...problems(401, 503) },
});

export function storageRoutes() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook })
    .openapi(reconcileRoute, async (c) =>
      c.json(
        await reconcile(c.var.instance, { dryRun: c.req.valid("query").dry_run === "true" }),
        200,
      ),
    )
    .openapi(s3Events, async (c) => {
      const parsed = parseS3Notification(c.req.valid("json"), {
        keysEncoded: c.req.valid("query").keys === "encoded",
      });
      const events = parsed.filter((p): p is StorageEvent => !("reason" in p));
      const results = await new Ingestor(c.var.instance).applyAll(events);
      const failed = results.find((r) => !r.ok);
      if (failed && !failed.ok) {
        // the sender retries the whole delivery; the records that did apply are idempotent
        throw new LaminError(
          "unavailable",
          `${results.filter((r) => !r.ok).length} of ${results.length} events failed: ${failed.error.message}`,
          "the sender should retry the delivery",
        );
      }
      let next = 0;
      const outcomes = parsed.map((p) => {
        if ("reason" in p) return { action: "ignored" as const, reason: p.reason };
        const r = results[next++];
        return r?.ok ? r.outcome : { action: "skipped" as const };
      });
      return c.json({ outcomes }, 200);
    });
}
