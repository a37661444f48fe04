/**
 * The API on AWS Lambda (API Gateway v2 or a Function URL). Configuration comes from the
 * environment; the instance and its connections are made once per container and reused by
 * warm invocations.
 *
 * - the instance's variables, see ../shared/environment.ts
 * - LAMIN_API_TOKEN_SHA256: SHA-256 (hex) of the access token
 * - LAMIN_SESSION_SECRET: optional; enables the web UI's sign-in (the same in every container)
 */

import type { LambdaContext } from "hono/aws-lambda";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import { tokenMatches } from "../../core/auth.js";
import { instanceFromEnvironment, requiredEnv } from "../shared/environment.js";
import { createApp } from "./app.js";
import { sessionKeys } from "./session.js";
import { builtWebUi, storageOrigins } from "./web.js";

let app: ReturnType<typeof handle> | undefined;

export function handler(event: LambdaEvent, context: LambdaContext) {
  app ??= handle(
    createApp({
      instance: instanceFromEnvironment,
      // read per request: a missing digest answers 500 problem+json instead of failing the
      // invocation (a thrown handler is a bare 502 from API Gateway)
      authorize: (token) =>
        token !== undefined &&
        tokenMatches(token, requiredEnv("LAMIN_API_TOKEN_SHA256", "the API")),
      web: builtWebUi(),
      storageOrigins: storageOrigins(
        [process.env.LAMIN_STORAGE_ENDPOINT],
        !process.env.LAMIN_STORAGE_ENDPOINT,
      ),
      ...(process.env.LAMIN_SESSION_SECRET
        ? { session: { keys: sessionKeys(process.env.LAMIN_SESSION_SECRET) } }
        : {}),
    }),
  );
  return app(event, context);
}
