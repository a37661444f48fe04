/// <reference path="./.sst/platform/config.d.ts" />
/**
 * One stage of lamindb-serverless on AWS: `npx sst deploy --stage <stage>` (docs/deploy.md).
 *
 * A bucket for every instance's storage, whose events go through a queue (with a dead-letter
 * queue) to the ingest function; the API function (the hub and every instance, behind a
 * Function URL); a daily reconcile. Databases live on Neon: the hub's connection string is the
 * `DatabaseUrl` secret. The pieces are in infra/; names of the AWS resources come from SST
 * (app, stage and the names below), so stages never collide.
 */
export default $config({
  app(input) {
    const production = input.stage === "production";
    return {
      name: "lamindb",
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
    };
  },
  async run() {
    const { buildBundles } = await import("./infra/bundles.js");
    const { secrets } = await import("./infra/secrets.js");
    const { notifyIngest, storage } = await import("./infra/storage.js");
    const { ingestQueue, subscribeIngest } = await import("./infra/queue.js");
    const { functions } = await import("./infra/functions.js");

    // what the tests bundle is what ships: build the bundles before declaring the functions
    const bundles = await buildBundles();
    const stageSecrets = secrets();
    const bucket = storage();
    const { queue, deadLetters } = ingestQueue();
    notifyIngest(bucket, queue);
    const { api, ingest } = functions({ secrets: stageSecrets, bucket, queue, bundles });
    subscribeIngest(queue, ingest);

    return { api: api.url, bucket: bucket.name, deadLetters: deadLetters.url };
  },
});
