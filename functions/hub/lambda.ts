/**
 * The API function of a deployed stage (sst.config.ts: `Api`, behind a Function URL): the hub
 * (accounts, keys, instances, collaborators) and every instance's API at
 * `/instances/{owner}/{name}/...`. Configuration: ../shared/stage.ts.
 */
import type { LambdaContext } from "hono/aws-lambda";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import { problem } from "../api/problem.js";
import { sessionKeys } from "../api/session.js";
import { builtWebUi, storageOrigins } from "../api/web.js";
import { once } from "../shared/once.js";
import { sstLinks } from "../shared/sst-links.js";
import { stageConfig } from "../shared/stage.js";
import { openStageHub } from "../shared/stage-hub.js";
import { composeHubApp, stageProvisioner, stageStorage } from "./compose.js";

const app = once(async () => {
  const config = stageConfig(sstLinks);
  const stage = await openStageHub(config);
  return handle(
    composeHubApp(stage.hub, {
      provisioner: stageProvisioner(config),
      // instances only in the stage's bucket; the client's address comes from the Function
      // URL's request context, not a header
      storage: stageStorage(config),
      // the UI's files ship beside the bundle (scripts/bundle-lambda.mjs copies dist/web)
      web: builtWebUi(),
      storageOrigins: storageOrigins([config.storageEndpoint], !config.storageEndpoint),
      // every container must open every container's cookies: the key comes from a secret they
      // all have (and that already opens all the data), unless the operator sets one
      sessionKeys: sessionKeys(process.env.LAMIN_SESSION_SECRET || config.databaseUrl),
    }),
  );
});

export async function handler(event: LambdaEvent, context: LambdaContext) {
  let serve: Awaited<ReturnType<typeof app>>;
  try {
    serve = await app();
  } catch (error) {
    // the hub's database is unreachable (or misconfigured): a problem answer, not a bare 502
    console.error(
      JSON.stringify({ level: "error", action: "start", error: (error as Error).message }),
    );
    const unavailable = problem(
      "unavailable",
      "the hub cannot reach its database",
      "try again shortly; if it persists, the operator should check the DatabaseUrl secret",
    );
    return {
      statusCode: 503,
      headers: { "content-type": "application/problem+json", "retry-after": "5" },
      body: JSON.stringify(unavailable),
      isBase64Encoded: false,
    };
  }
  return serve(event, context);
}
