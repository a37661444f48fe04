/** What handlers find in the Hono context. */
import type { InstanceRole } from "../../core/hub/roles.js";
import type { Instance } from "../../core/instance.js";

export interface ApiEnv {
  Variables: {
    instance: Instance;
    /** The caller's role on the instance: what the routes' guards (roles.ts) check. */
    role: InstanceRole | undefined;
    /** Who writes are recorded as (a hub caller); absent: the instance's own user. */
    actor: { uid: string; handle: string } | undefined;
  };
}
