/**
 * The stage's bucket: every instance's default storage (`s3://<bucket>/<owner>/<name>`).
 * Browsers upload and download with presigned URLs (CORS), multipart uploads that were never
 * completed are cleaned up, and every object created or removed becomes an event on the ingest
 * queue.
 */
import { ABORT_INCOMPLETE_UPLOADS_DAYS, STORAGE_EVENTS } from "./settings.js";

/** CORS of the bucket: presigned GET/PUT/HEAD from any origin; ETag readable (multipart). */
export const STORAGE_CORS = {
  allowOrigins: ["*"],
  allowMethods: ["GET", "PUT", "HEAD"],
  allowHeaders: ["*"],
  exposeHeaders: ["ETag"],
  maxAge: "1 hour",
} as const;

export function storage() {
  const bucket = new sst.aws.Bucket("Storage", {
    cors: {
      allowOrigins: [...STORAGE_CORS.allowOrigins],
      allowMethods: [...STORAGE_CORS.allowMethods],
      allowHeaders: [...STORAGE_CORS.allowHeaders],
      exposeHeaders: [...STORAGE_CORS.exposeHeaders],
      maxAge: STORAGE_CORS.maxAge,
    },
  });
  // SST's own `lifecycle` rules only expire objects; aborting incomplete multipart uploads
  // needs the bucket's lifecycle configuration directly (one per bucket: SST makes none here).
  new aws.s3.BucketLifecycleConfiguration("StorageLifecycle", {
    bucket: bucket.name,
    rules: [
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS },
      },
    ],
  });
  return bucket;
}

/** Send the bucket's object-created and object-removed events to the ingest queue. */
export function notifyIngest(bucket: sst.aws.Bucket, queue: sst.aws.Queue) {
  return bucket.notify({
    notifications: [{ name: "Ingest", queue, events: [...STORAGE_EVENTS] }],
  });
}
