/**
 * The credential of a Pub/Sub push. A push subscription sends no header of ours (only, when
 * asked, Google's own OIDC token, which is not a lamin credential), so the webhook of Cloud
 * Storage notifications takes the API token from its URL's query string: `?token=...`. On that
 * one route and method only: a token in a URL ends up in more places than a header does, so no
 * other route accepts one. It is then checked exactly as a bearer token is (stored as a digest,
 * compared in constant time, throttled on the hub), and never logged.
 */
import type { Context } from "hono";

/** The Cloud Storage notification webhook of an instance. */
export const GCS_EVENTS_PATH = "/events/gcs";
/** Its query parameter that carries the token. */
export const PUSH_TOKEN_PARAM = "token";

/**
 * The token of a push to the webhook at `path` (the instance app's own path, or the hub's
 * `/instances/{owner}/{name}/events/gcs`); undefined for any other request.
 */
export function pushToken(c: Context, isWebhook: (path: string) => boolean): string | undefined {
  if (c.req.method !== "POST" || !isWebhook(c.req.path)) return undefined;
  const token = c.req.query(PUSH_TOKEN_PARAM);
  return token === undefined || token === "" ? undefined : token;
}
