/**
 * Browser sessions of the web UI. A signed-in browser holds the credential it signed in with
 * (`lamin serve`'s token, or a hub API key) sealed in a cookie: encrypted and authenticated with
 * the server's secret (AES-256-GCM), HttpOnly (no script reads it), SameSite=Strict, Secure over
 * HTTPS, and expiring. Each request opens it and authenticates the credential exactly as a bearer
 * header would, so a session is never a second path to data: a revoked key ends its sessions.
 *
 * Cookies ride along with requests other sites make, so a write authenticated by the cookie must
 * also carry {@link CSRF_HEADER} (a cross-site form cannot set a header, and a cross-site script
 * cannot without a CORS preflight that nothing here answers) and, when the browser says where it
 * comes from, an Origin equal to the server's own.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { bearerToken } from "../../core/auth.js";
import { problem, problemResponse } from "./problem.js";

export const SESSION_COOKIE = "lamin_session";

/**
 * The session cookie's name at this server: browsers keep cookies per host, not per port, so
 * servers on one host (two `lamin serve`, a hub) each name theirs by port and do not sign each
 * other out. (Any server on the host still receives them all: see docs on sessions.)
 */
export function sessionCookieName(c: Context): string {
  const port = new URL(c.req.url).port;
  return port ? `${SESSION_COOKIE}_${port}` : SESSION_COOKIE;
}
/** The header the UI sends with every request; required for cookie-authenticated writes. */
export const CSRF_HEADER = "x-lamin-csrf";
/** How long a session lasts. */
export const SESSION_SECONDS = 12 * 60 * 60;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Sealing and opening of session cookies with one server secret. */
export interface SessionKeys {
  seal(credential: string, now?: number): string;
  open(value: string, now?: number): string | undefined;
}

/**
 * Session keys from a secret. The secret must be the same wherever one deployment answers (a
 * Lambda function's containers): derive it from a secret they share, or pass random bytes for a
 * single process (its sessions end with it).
 */
export function sessionKeys(secret: string | Uint8Array): SessionKeys {
  // a fixed-length key from any secret, bound to this use
  const key = createHmac("sha256", secret).update("lamin web session v1").digest();
  return {
    seal(credential, now = Date.now()) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const expires = Math.floor(now / 1000) + SESSION_SECONDS;
      const plain = Buffer.from(JSON.stringify([expires, credential]), "utf8");
      const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
      return [iv, sealed, cipher.getAuthTag()].map((b) => b.toString("base64url")).join(".");
    },
    open(value, now = Date.now()) {
      const parts = value.split(".");
      if (parts.length !== 3 || value.length > 4096) return undefined;
      try {
        const [iv, sealed, tag] = parts.map((p) => Buffer.from(p, "base64url")) as Buffer[];
        const decipher = createDecipheriv("aes-256-gcm", key, iv as Buffer);
        decipher.setAuthTag(tag as Buffer);
        const plain = Buffer.concat([decipher.update(sealed as Buffer), decipher.final()]);
        const [expires, credential] = JSON.parse(plain.toString("utf8")) as [number, string];
        if (typeof credential !== "string" || !(expires * 1000 > now)) return undefined;
        return credential;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The credential of a request: the bearer header's, else the session cookie's. A write on the
 * cookie without the UI's header, or from another origin, is refused (a Response to return).
 */
export function requestCredential(
  c: Context,
  keys: SessionKeys | undefined,
  fromHeader: string | undefined,
): { credential: string | undefined; viaCookie: boolean } | Response {
  if (c.req.header("authorization") !== undefined || !keys) {
    return { credential: fromHeader, viaCookie: false };
  }
  const cookie = getCookie(c, sessionCookieName(c));
  const credential = cookie ? keys.open(cookie) : undefined;
  if (credential === undefined) return { credential: undefined, viaCookie: false };
  if (!SAFE_METHODS.has(c.req.method)) {
    const refusal = crossSiteRefusal(c);
    if (refusal) return refusal;
  }
  return { credential, viaCookie: true };
}

/** Why a cookie-authenticated write may be forged by another site, if it may. */
function crossSiteRefusal(c: Context): Response | undefined {
  const origin = c.req.header("origin");
  const own = new URL(c.req.url).origin;
  if (c.req.header(CSRF_HEADER) !== "1" || (origin !== undefined && origin !== own)) {
    return problemResponse(
      c,
      problem(
        "permission",
        "a write with the session cookie must come from the web UI of this server",
        `send the header ${CSRF_HEADER}: 1 from a page of ${own}, or use Authorization: Bearer`,
      ),
    );
  }
  return undefined;
}

/**
 * `POST /session` (sign in: `{ "token": ... }` becomes the cookie when `check` accepts it) and
 * `DELETE /session` (sign out). Sign-in is itself a write: the UI's header is required, so
 * another site cannot sign a browser in with its own credential.
 */
export async function signIn(
  c: Context,
  keys: SessionKeys | undefined,
  check: (credential: string) => Promise<Response | undefined>,
  codes?: OneTimeCodes,
): Promise<Response> {
  if (!keys) {
    return problemResponse(
      c,
      problem(
        "validation",
        "this server has no browser sessions",
        "its operator sets LAMIN_SESSION_SECRET to enable the web UI's sign-in",
      ),
    );
  }
  const refusal = crossSiteRefusal(c);
  if (refusal) return refusal;
  const body = (await c.req.json().catch(() => undefined)) as
    | { token?: unknown; code?: unknown }
    | undefined;
  const code = typeof body?.code === "string" ? body.code : undefined;
  if (code !== undefined) {
    const credential = codes?.redeem(code);
    if (credential === undefined) {
      return problemResponse(
        c,
        problem(
          "unauthenticated",
          "this sign-in link was used already or has expired",
          "sign in with the token, or restart lamin serve for a new link",
        ),
      );
    }
    setCookie(c, sessionCookieName(c), keys.seal(credential), cookieOptions(c, SESSION_SECONDS));
    return c.json({ ok: true });
  }
  const token = typeof body?.token === "string" ? body.token.trim() : "";
  if (!token || token.length > 512) {
    return problemResponse(
      c,
      problem("validation", 'send { "token": ... } as JSON', "paste the token lamin printed"),
    );
  }
  const refused = await check(token);
  if (refused) return refused;
  setCookie(c, sessionCookieName(c), keys.seal(token), cookieOptions(c, SESSION_SECONDS));
  return c.json({ ok: true });
}

/**
 * `GET /session`: whether the request's cookie (or bearer header) is a valid sign-in, and what
 * kind of server this is, so the UI shows its sign-in form without first failing a request.
 */
export async function sessionState(
  c: Context,
  keys: SessionKeys | undefined,
  service: "instance" | "hub",
  valid: (credential: string) => Promise<boolean>,
): Promise<Response> {
  const sent = requestCredential(c, keys, bearerToken(c.req.header("authorization")));
  const credential = sent instanceof Response ? undefined : sent.credential;
  const signedIn = credential !== undefined && (await valid(credential));
  return c.json({ service, signed_in: signedIn, sessions: keys !== undefined });
}

export function signOut(c: Context): Response {
  const refusal = crossSiteRefusal(c);
  if (refusal) return refusal;
  setCookie(c, sessionCookieName(c), "", cookieOptions(c, 0));
  return c.body(null, 204);
}

function cookieOptions(c: Context, maxAge: number) {
  const https =
    new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
  return {
    httpOnly: true,
    sameSite: "Strict" as const,
    secure: https,
    path: "/",
    maxAge,
  };
}

/** How long a one-time sign-in link lasts. */
export const CODE_SECONDS = 10 * 60;

/**
 * One-time sign-in codes (`lamin serve` prints a link with one): each stands for a credential,
 * works once, and expires; the link never holds the credential itself.
 */
export class OneTimeCodes {
  private readonly codes = new Map<string, { credential: string; expires: number }>();

  issue(credential: string, now = Date.now()): string {
    const code = randomBytes(24).toString("base64url");
    this.codes.set(code, { credential, expires: now + CODE_SECONDS * 1000 });
    return code;
  }

  /** The credential of `code`, which is used up; undefined for an unknown or expired code. */
  redeem(code: string, now = Date.now()): string | undefined {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    return entry && entry.expires > now ? entry.credential : undefined;
  }
}
