// A cold start of a Lambda bundle, for bench/api.ts: `node bench/lib/lambda-cold.mjs <bundle>`
// in a fresh process, with the function's environment (DATABASE_URL, LAMIN_INSTANCE, ...) and
// BENCH_TOKEN (the bearer token), BENCH_UIDS (comma-separated artifact uids) and BENCH_WARM
// (warm invocations, default 200). Imports the bundle, answers GET /artifacts/{uid} once (the
// first answer opens the database), then BENCH_WARM more times; prints one JSON line of timings
// in ms. `boot` is the time from process start to this script's first line.
const boot = performance.now();
const [bundle] = process.argv.slice(2);
const token = process.env.BENCH_TOKEN;
const uids = (process.env.BENCH_UIDS ?? "").split(",").filter(Boolean);
const warm = Number(process.env.BENCH_WARM ?? 200);
if (!bundle || !token || uids.length === 0) {
  console.error("usage: BENCH_TOKEN=... BENCH_UIDS=uid,uid node lambda-cold.mjs <bundle.mjs>");
  process.exit(2);
}

/** An API Gateway v2 (HTTP API) event, as a Function URL sends it too. */
function event(path) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: {
      accept: "application/json",
      authorization: `Bearer ${token}`,
      host: "abc123.lambda-url.eu-central-1.on.aws",
      "user-agent": "bench",
      "x-forwarded-proto": "https",
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.lambda-url.eu-central-1.on.aws",
      http: {
        method: "GET",
        path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "bench",
      },
      requestId: "bench",
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

const context = { awsRequestId: "bench", functionName: "api", getRemainingTimeInMillis: () => 3e4 };

async function call(handler, uid) {
  const res = await handler(event(`/artifacts/${uid}`), context);
  if (res.statusCode !== 200 || JSON.parse(res.body).uid !== uid) {
    throw new Error(`GET /artifacts/${uid}: ${res.statusCode} ${String(res.body).slice(0, 300)}`);
  }
}

const t0 = performance.now();
const { handler } = await import(bundle);
const t1 = performance.now();
await call(handler, uids[0]);
const t2 = performance.now();
const times = [];
for (let i = 0; i < warm; i++) {
  const t = performance.now();
  await call(handler, uids[(i + 1) % uids.length]);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN;
console.log(
  JSON.stringify({
    boot,
    import: t1 - t0,
    first: t2 - t1,
    warmP50: at(0.5),
    warmP99: at(0.99),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  }),
);
process.exit(0);
