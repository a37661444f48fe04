// One Lambda container's life, for bench/lambda.ts: `node bench/lib/lambda-run.mjs <bundle.mjs>
// <events.json>` in a fresh process (plain .mjs: no tsx), with the function's environment.
//
// events.json is either an array of events (the first is the cold one; the others are cycled
// BENCH_WARM times, default 200) or an object:
//   { "first": event, "phases": [{ "label": string, "events": [event, ...], "count": number,
//     "actions"?: [string, ...] }] }
// where each phase cycles its events `count` times (default: once each). Every answer is
// checked, so that a broken function cannot look fast:
// - HTTP events (API Gateway v2 / Function URL): statusCode 200;
// - SQS batches: no batchItemFailures and, when the phase names `actions`, every record logged
//   one of them (the ingest handler logs one JSON line per record: `created`, `duplicate`, ...);
// - anything else (the reconcile worker): an answer whose `action` is `reconciled`.
// Prints one JSON line on stdout: `boot` (process start to this script's first line), `import`
// (of the bundle), `first` (the first event), the per-event times of each phase, the first
// answer's summary, RSS, and, when BENCH_PROXY_STATS is the URL of a JSON counter, the count it
// answered after the first event and after the warm phases. Exits 1 on the first wrong answer.
const boot = performance.now();
const [bundle, eventsFile] = process.argv.slice(2);
if (!bundle || !eventsFile) {
  process.stderr.write("usage: node lambda-run.mjs <bundle.mjs> <events.json>\n");
  process.exit(2);
}
const { readFileSync } = await import("node:fs");
const spec = JSON.parse(readFileSync(eventsFile, "utf8"));
const plan = Array.isArray(spec)
  ? {
      first: spec[0],
      phases:
        spec.length > 1
          ? [{ label: "warm", events: spec.slice(1), count: Number(process.env.BENCH_WARM ?? 200) }]
          : [],
    }
  : spec;
if (!plan.first) {
  process.stderr.write(`${eventsFile}: no event\n`);
  process.exit(2);
}

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "bench",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench",
  memoryLimitInMB: "1024",
  awsRequestId: "00000000-0000-4000-8000-000000000000",
  logGroupName: "/aws/lambda/bench",
  logStreamName: "bench",
  getRemainingTimeInMillis: () => 30_000,
};

// The functions log JSON lines with console.log (CloudWatch in Lambda). Keep them, per event, to
// check what the ingest function did; they are not written anywhere (stdout carries the result).
let logged = [];
console.log = (...args) => {
  logged.push(args.map(String).join(" "));
};
console.info = console.log;

const kindOf = (event) =>
  event?.requestContext?.http
    ? "http"
    : Array.isArray(event?.Records) && event.Records[0]?.eventSource === "aws:sqs"
      ? "sqs"
      : "invoke";

const describe = (event) => {
  const kind = kindOf(event);
  if (kind === "http") {
    const q = event.rawQueryString ? `?${event.rawQueryString}` : "";
    return `${event.requestContext.http.method} ${event.rawPath}${q}`;
  }
  if (kind === "sqs") return `SQS batch of ${event.Records.length}`;
  return JSON.stringify(event).slice(0, 200);
};

/** Throws unless `answer` is the right answer to `event`; returns a short summary of it. */
function check(event, answer, actions) {
  const lines = logged;
  logged = [];
  const kind = kindOf(event);
  if (kind === "http") {
    if (answer?.statusCode !== 200) {
      throw new Error(`${answer?.statusCode}: ${String(answer?.body).slice(0, 500)}`);
    }
    return { status: answer.statusCode, bytes: String(answer.body ?? "").length };
  }
  if (kind === "sqs") {
    const failures = answer?.batchItemFailures;
    if (!Array.isArray(failures) || failures.length > 0) {
      throw new Error(`batch failures: ${JSON.stringify(answer)}; log: ${lines.join("\n")}`);
    }
    const done = [];
    for (const line of lines) {
      try {
        const entry = JSON.parse(line);
        if (entry && typeof entry.action === "string") done.push(entry.action);
      } catch {}
    }
    if (actions) {
      const wrong = done.filter((a) => !actions.includes(a));
      if (done.length < event.Records.length || wrong.length > 0) {
        throw new Error(
          `expected ${actions.join(" or ")} for each record, logged ${JSON.stringify(done)}: ${lines.join("\n").slice(0, 1000)}`,
        );
      }
    }
    return { actions: done };
  }
  if (answer?.action !== "reconciled") {
    throw new Error(`expected action "reconciled": ${JSON.stringify(answer)?.slice(0, 500)}`);
  }
  return answer;
}

/** GET a JSON counter over plain node:http (no fetch: it would load undici into the process). */
async function proxyConnections() {
  const url = process.env.BENCH_PROXY_STATS;
  if (!url) return undefined;
  const { get } = await import("node:http");
  return new Promise((resolve) => {
    get(url, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => {
        try {
          resolve(JSON.parse(text).connections);
        } catch {
          resolve(undefined);
        }
      });
    }).on("error", () => resolve(undefined));
  });
}

let current = "import";
try {
  const t0 = performance.now();
  const { handler } = await import(bundle);
  const t1 = performance.now();
  if (typeof handler !== "function") throw new Error(`${bundle} exports no handler`);
  current = `first event, ${describe(plan.first)}`;
  const firstAnswer = await handler(plan.first, context);
  const t2 = performance.now();
  const firstSummary = check(plan.first, firstAnswer, plan.firstActions);
  const afterFirst = await proxyConnections();
  const phases = [];
  for (const phase of plan.phases ?? []) {
    const count = phase.count ?? phase.events.length;
    const times = new Array(count);
    let last;
    for (let i = 0; i < count; i++) {
      const event = phase.events[i % phase.events.length];
      current = `${phase.label}, event ${i + 1} of ${count}: ${describe(event)}`;
      const t = performance.now();
      const answer = await handler(event, context);
      times[i] = performance.now() - t;
      last = check(event, answer, phase.actions);
    }
    phases.push({ label: phase.label, times, last });
  }
  const afterWarm = await proxyConnections();
  process.stdout.write(
    `${JSON.stringify({
      boot,
      import: t1 - t0,
      first: t2 - t1,
      firstAnswer: firstSummary,
      phases,
      connections: { afterFirst, afterWarm },
      rssMiB: process.memoryUsage().rss / 2 ** 20,
    })}\n`,
  );
  process.exit(0);
} catch (error) {
  process.stderr.write(`lambda-run: ${current}: ${error?.stack ?? error}\n`);
  process.exit(1);
}
