/**
 * The registry against its storage:
 * - POST /events/s3: the webhook that self-hosted S3-compatible servers (MinIO and the like)
 *   call with S3-format notification records, so that uploads to them register like uploads to
 *   AWS do;
 * - POST /events/gcs: the webhook of a Pub/Sub push subscription to a Cloud Storage bucket's
 *   notifications (or of an Eventarc trigger), so that uploads to a gs:// instance register;
 * - POST /reconcile: repair what events missed (see core/ingest/reconcile.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { LaminError, ValidationError } from "../../../core/errors.js";
import {
  gcsDeliveryKind,
  parseGcsNotification,
  parseS3Notification,
  type StorageEvent,
} from "../../../core/ingest/events.js";
import { Ingestor } from "../../../core/ingest/ingest.js";
import { reconcile } from "../../../core/ingest/reconcile.js";
import type { ApiEnv } from "../env.js";
import { body, json, problems } from "../openapi.js";
import { problemHook } from "../problem.js";
import { GCS_EVENTS_PATH, PUSH_TOKEN_PARAM } from "../push-token.js";
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
      "rejected",
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

const gcsEvents = createRoute({
  method: "post",
  path: GCS_EVENTS_PATH,
  middleware: requires("write"),
  tags: ["events"],
  summary:
    "Register the object named by a Cloud Storage notification: a Pub/Sub push, or an Eventarc CloudEvent",
  description: [
    "The body is what a Pub/Sub push subscription sends (`{message: {attributes, data}}`, data the",
    "base64 of the object resource) or a Cloud Storage CloudEvent (binary mode: `ce-*` headers and",
    "the object resource; structured mode: `application/cloudevents+json`). Events apply once, in",
    "order of generation and metageneration, whatever order and how often they come. A message",
    "that cannot be understood is answered 200 `rejected` (and logged), so that Pub/Sub stops",
    "redelivering it; a failure worth retrying is 503. A push subscription may carry the token in",
    `the query string (\`?${PUSH_TOKEN_PARAM}=...\`), on this route only.`,
  ].join(" "),
  request: {
    query: z.object({
      [PUSH_TOKEN_PARAM]: z.string().optional().openapi({
        description:
          "the access token, for Pub/Sub push subscriptions (they send no header of ours)",
      }),
    }),
  },
  responses: {
    200: json(z.object({ outcomes: z.array(Outcome) }), "what the event did"),
    ...problems(400, 401, 403, 503),
  },
});

/** One line on stderr for a delivery that was not applied; never the URL (it holds the token). */
function logDelivery(entry: Record<string, unknown>): void {
  console.error(JSON.stringify({ level: "error", route: GCS_EVENTS_PATH, ...entry }));
}

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
    })
    .openapi(gcsEvents, async (c) => {
      const { instance } = c.var;
      if (instance.storage.type !== "gs") {
        // a misdirected subscription: refused, so that its messages wait for the right endpoint
        throw new ValidationError(
          `this instance's storage is ${instance.storage.root}, not a Cloud Storage bucket`,
          "point the push subscription at the instance whose storage is the bucket of the notification",
        );
      }
      const headers = c.req.header();
      const text = await c.req.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const kind = gcsDeliveryKind(body, headers);
      if (!kind) {
        throw new ValidationError(
          "the body is neither a Pub/Sub push nor a Cloud Storage CloudEvent",
          "send what a push subscription of a bucket notification's topic sends, or an Eventarc event",
        );
      }
      const messageId =
        kind === "pubsub"
          ? ((body as { message: { messageId?: unknown } }).message.messageId ?? null)
          : (headers["ce-id"] ?? (body as { id?: unknown }).id ?? null);
      let parsed: StorageEvent | { reason: string };
      try {
        parsed = parseGcsNotification(body, headers);
      } catch (error) {
        // poison: no retry makes it better, and Pub/Sub redelivers until it is acknowledged
        const reason = (error as Error).message;
        logDelivery({ action: "rejected", messageId, reason, body: text.slice(0, 500) });
        return c.json({ outcomes: [{ action: "rejected" as const, reason }] }, 200);
      }
      if ("reason" in parsed) {
        return c.json({ outcomes: [{ action: "ignored" as const, reason: parsed.reason }] }, 200);
      }
      const [result] = await new Ingestor(instance).applyAll([parsed]);
      if (!result?.ok) {
        const message = result?.error.message ?? "not applied";
        logDelivery({ action: "failed", messageId, key: parsed.key, error: message });
        throw new LaminError(
          "unavailable",
          `the event for ${parsed.key} failed: ${message}`,
          "Pub/Sub redelivers it",
        );
      }
      return c.json({ outcomes: [result.outcome] }, 200);
    });
}
