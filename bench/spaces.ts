/**
 * What spaces cost a request through the hub: the same GETs as the owner (no restriction, no
 * transaction), as a reader of `all` and as a member of a restricted space (one transaction under
 * the database's row-level security, core/db/space-policies.ts). An instance on Postgres with
 * artifacts in `all` and in a restricted space; requests go to the hub app in process (no
 * sockets), one at a time. Figures only: no assertion on time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmtMs, laminEnv, median, quantile, row } from "./lib/common.js";

const base = process.env.DATABASE_URL;
if (!base) {
  console.log(
    "bench/spaces needs a Postgres server: skipped.\n" +
      "Run it with DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench -- spaces",
  );
  process.exit(0);
}
const PER_SPACE = Number(process.env.BENCH_ARTIFACTS ?? 1000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);

const dir = mkdtempSync(join(tmpdir(), "lamin-spaces-bench-"));
const env = laminEnv(join(dir, "home"));
process.env.LAMIN_HOME = env.LAMIN_HOME;
process.env.LAMIN_CACHE_DIR = env.LAMIN_CACHE_DIR;
delete process.env.LAMIN_INSTANCE;

const { initInstance } = await import("../core/setup.js");
const { openHub } = await import("../core/hub/open.js");
const { dropDatabase } = await import("../core/db/postgres.js");
const { createHubApp } = await import("../functions/hub/app.js");
const { randomBase62 } = await import("../core/uid.js");

const url = (name: string) => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};
const hubUrl = url(`lamin_bench_hub_${randomBase62(6).toLowerCase()}`);
const dbUrl = url(`lamin_bench_spaces_${randomBase62(6).toLowerCase()}`);
const opened = await openHub(hubUrl);
const { hub } = opened;
const ln = await initInstance({ storage: join(dir, "storage"), name: "bench-spaces", db: dbUrl });
const app = createHubApp({ hub });
try {
  for (const h of ["owner", "reader", "member"]) await hub.createAccount(h);
  await hub.recordInstance({
    owner: "owner",
    name: "lab",
    storageRoot: join(dir, "storage"),
    dbUrl,
  });
  await hub.setCollaborator("owner", "lab", "reader", "read");
  await hub.setCollaborator("owner", "lab", "member", "write");
  await ln.spaces.create("lab-a");
  const files = join(dir, "files");
  mkdirSync(files);
  for (const space of ["all", "lab-a"]) {
    const items = Array.from({ length: PER_SPACE }, (_, i) => {
      const path = join(files, `${space}-${i}.csv`);
      writeFileSync(path, `space,i\n${space},${i}\n`);
      return { path, key: `${space}/${i}.csv`, space };
    });
    await ln.artifacts.saveMany(items);
  }
  const labA = (await ln.spaces.resolve("lab-a")).id;
  await hub.setSpaceCollaborator("owner", "lab", "member", labA, "read");
  const key = {
    owner: (await hub.createKey("owner")).key,
    reader: (await hub.createKey("reader")).key,
    member: (await hub.createKey("member")).key,
  };
  const one = (await ln.artifacts.list({ limit: 1 })).items[0]?.uid;
  const paths = {
    list: "/artifacts?limit=50",
    get: `/artifacts/${one}`,
    // few rows match: every row is read, and the policies filter each one
    search: `/artifacts?key__contains=${encodeURIComponent("/99")}&limit=50`,
  };

  /** One request at a time, the callers `whos` taking turns. */
  const time = async (whos: (keyof typeof key)[], path: string) => {
    const ms: number[] = [];
    for (let i = 0; i < REQUESTS + 20; i++) {
      const who = whos[i % whos.length] as keyof typeof key;
      const t0 = performance.now();
      const res = await app.request(`/instances/owner/lab${path}`, {
        headers: { authorization: `Bearer ${key[who]}` },
      });
      await res.arrayBuffer();
      if (res.status !== 200 && res.status !== 404)
        throw new Error(`${who} ${path}: ${res.status}`);
      if (i >= 20) ms.push(performance.now() - t0); // the first ones warm caches up
    }
    return ms;
  };

  console.log(
    `bench/spaces: ${PER_SPACE} artifacts in all and ${PER_SPACE} in lab-a, ${REQUESTS} sequential requests each (Postgres, hub in process)`,
  );
  const widths = [44, 10, 10];
  console.log(row(["request", "p50", "p90"], widths));
  for (const [label, path] of Object.entries(paths)) {
    for (const who of ["owner", "reader", "member"] as const) {
      const ms = await time([who], path);
      const what =
        who === "owner"
          ? "owner (no restriction)"
          : who === "reader"
            ? "reader of all (RLS)"
            : "member of lab-a (RLS)";
      console.log(
        row([`GET ${label} as ${what}`, fmtMs(median(ms)), fmtMs(quantile(ms, 0.9))], widths),
      );
    }
    // as on a shared server: the owner's requests and a reader's on the same connections
    const mixed = await time(["owner", "reader"], path);
    console.log(
      row(
        [
          `GET ${label}, owner and reader taking turns`,
          fmtMs(median(mixed)),
          fmtMs(quantile(mixed, 0.9)),
        ],
        widths,
      ),
    );
  }
} finally {
  await app.close();
  await ln.close();
  await opened.close();
  await dropDatabase(dbUrl).catch(() => {});
  await dropDatabase(hubUrl).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
