/**
 * The role each route of the instance API needs, declared on the route itself (`middleware:
 * requires(...)`): it is decided on exactly the route the router dispatched, never on a second
 * reading of the path. The hub sets the caller's role; `lamin serve`'s token holder is the owner.
 */
import type { Context, MiddlewareHandler } from "hono";
import { LaminError } from "../../core/errors.js";
import { allows, type Need } from "../../core/hub/roles.js";
import type { ApiEnv } from "./env.js";

const guards = new WeakSet<object>();

/** A route's guard: `need`, or a function of the request (e.g. of a query parameter). */
export function requires(need: Need | ((c: Context<ApiEnv>) => Need)): MiddlewareHandler<ApiEnv> {
  const guard: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const role = c.get("role");
    const needed = typeof need === "function" ? need(c) : need;
    if (!allows(role, needed)) {
      throw new LaminError(
        "permission",
        `your role is ${role ?? "none"}; this needs ${needed}`,
        "ask an admin of the instance for a stronger role",
      );
    }
    // a route that may write records what it writes as the caller's (created_by); only once the
    // role allows it, so that a refused request leaves no trace (not even the caller's user row)
    const actor = needed === "read" ? undefined : c.get("actor");
    if (actor) c.set("instance", await c.var.instance.actingAs(actor));
    await next();
  };
  guards.add(guard);
  return guard;
}

/** How Hono marks a handler it wrapped when mounting a sub-app with its own error handler. */
const COMPOSED = "__COMPOSED_HANDLER";

/**
 * Throw unless every route but the public ones has a guard among its handlers: a route added
 * without a role fails when the app is built, not when someone finds it.
 */
export function assertRolesDeclared(
  routes: readonly { method: string; path: string; handler: unknown }[],
  publicPaths: ReadonlySet<string>,
): void {
  const guarded = new Map<string, boolean>();
  for (const r of routes) {
    if (r.method === "ALL" || publicPaths.has(r.path)) continue;
    const id = `${r.method} ${r.path}`;
    const h = r.handler as Record<string, unknown>;
    const isGuard =
      guards.has(h) || (h[COMPOSED] !== undefined && guards.has(h[COMPOSED] as object));
    guarded.set(id, (guarded.get(id) ?? false) || isGuard);
  }
  const missing = [...guarded].filter(([, ok]) => !ok).map(([id]) => id);
  if (missing.length > 0) {
    throw new Error(`routes without a declared role (requires(...)): ${missing.join(", ")}`);
  }
}
