// SST depends on AWS's durable-execution SDK only for `sst/aws/workflow`, which this project does
// not use; the real package requires Node 22 and made every `npm install` on Node 20 warn.
throw new Error(
  "sst/aws/workflow is not available in lamindb-serverless: its SDK is replaced by a stand-in (package.json overrides)",
);
