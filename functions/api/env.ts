/** What handlers find in the Hono context. */
import type { Instance } from "../../core/instance.js";

export interface ApiEnv {
  Variables: {
    instance: Instance;
  };
}
