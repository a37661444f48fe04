/**
 * Change requests on the hub: a collaborator opens one from a branch (status draft, then
 * review), anyone who may read lists its changes, only an admin merges it, and a closed one is
 * not merged. Every write through the hub is recorded as the acting user's (created_by), not the
 * owner's.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOn } from "../cli/commands/serve.js";
import { queryRows } from "../core/db/client.js";
import { createHubApp } from "../functions/hub/app.js";
import { RemoteInstance } from "../sdk/remote.js";
import { useTempHome } from "./helpers.js";
import { type HubFixture, hubFixture, type Who } from "./security/hub-fixture.js";

useTempHome();

describe.skipIf(!process.env.DATABASE_URL)("change requests on the hub", () => {
  let fx: HubFixture;
  let app: ReturnType<typeof createHubApp>;
  let server: Awaited<ReturnType<typeof listenOn>>["server"] | undefined;
  let url = "";
  const as = (who: Who) =>
    new RemoteInstance(`${url}/instances/alice/alpha`, { token: fx.keys[who] });
  const file = (name: string, text: string) => {
    const path = join(fx.work, name);
    writeFileSync(path, text);
    return path;
  };
  const createdBy = async (uid: string) =>
    (
      await queryRows<{ handle: string }>(
        fx.alpha.instance.db,
        sql`SELECT u.handle FROM lamindb_artifact a JOIN lamindb_user u ON u.id = a.created_by_id
          WHERE a.uid = ${uid}`,
      )
    )[0]?.handle;

  beforeAll(async () => {
    fx = await hubFixture();
    app = createHubApp({ hub: fx.hub });
    const served = await listenOn(app.fetch, { port: 0, host: "127.0.0.1" });
    server = served.server;
    url = served.url.replace(/\/+$/, "");
  }, 120_000);
  afterAll(async () => {
    server?.close();
    await app?.close();
    await fx?.close();
  });

  it("a writer opens one from a branch; a reader lists its changes; the writer cannot merge", async () => {
    const carol = as("write");
    await carol.branches.create("cr1", { description: "new measurements" });
    await carol.useBranch("cr1");
    const saved = await carol.artifacts.save(file("m.csv", "m\n1\n"), { key: "cr/m.csv" });
    expect(saved.artifact.created_by).toBe("carol");
    expect(await createdBy(saved.artifact.uid)).toBe("carol");
    await carol.ulabels.create({ name: "cr-label" });
    expect(await carol.branches.update("cr1", { status: "draft" })).toMatchObject({
      status: "draft",
    });
    expect(await carol.branches.update("cr1", { status: "review" })).toMatchObject({
      status: "review",
    });

    const changes = await as("read").branches.changes("cr1");
    expect(changes).toEqual(
      expect.arrayContaining([
        { registry: "artifact", uid: saved.artifact.uid, label: "cr/m.csv", created_by: "carol" },
        expect.objectContaining({ registry: "ulabel", label: "cr-label", created_by: "carol" }),
      ]),
    );
    // main does not show it yet
    expect((await as("read").artifacts.list()).items.map((a) => a.key)).not.toContain("cr/m.csv");
    await expect(as("write").branches.merge("cr1")).rejects.toMatchObject({ kind: "permission" });
    await expect(as("read").branches.update("cr1", { status: "closed" })).rejects.toMatchObject({
      kind: "permission",
    });
  });

  it("an admin approves by merging: the records are on main, still the writer's", async () => {
    const result = await as("admin").branches.merge("cr1");
    expect(result).toMatchObject({ source: "cr1", target: "main" });
    const onMain = (await as("read").artifacts.list()).items.find((a) => a.key === "cr/m.csv");
    expect(onMain?.created_by).toBe("carol");
    expect(await as("read").branches.get("cr1")).toMatchObject({ status: "merged" });
    expect(await as("read").branches.changes("cr1")).toEqual([]);
  });

  it("a closed change request is not merged", async () => {
    const carol = as("write");
    await carol.branches.create("cr2");
    await carol.useBranch("cr2");
    await carol.artifacts.save(file("n.csv", "n\n"), { key: "cr/n.csv" });
    await carol.branches.update("cr2", { status: "closed" });
    await expect(as("admin").branches.merge("cr2")).rejects.toMatchObject({ kind: "conflict" });
    expect((await as("read").artifacts.list()).items.map((a) => a.key)).not.toContain("cr/n.csv");
  });

  it("the owner's writes stay the owner's; each caller is one user row", async () => {
    const saved = await as("owner").artifacts.save(file("o.csv", "o\n"), { key: "cr/o.csv" });
    // the fixture's instance was made by `lamin init` (user anonymous) and adopted by alice
    expect(await createdBy(saved.artifact.uid)).toBe("anonymous");
    const users = await queryRows<{ handle: string }>(
      fx.alpha.instance.db,
      sql`SELECT handle FROM lamindb_user ORDER BY handle`,
    );
    // carol wrote, bob merged; dave's refused write left no trace
    expect(users.map((u) => u.handle)).toEqual(["anonymous", "bob", "carol"]);
  });
});
