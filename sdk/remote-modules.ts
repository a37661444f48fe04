/** An instance's modules over HTTP (routes/modules.ts): the same reads as in process. */
import type { ModuleChange, ModuleChangeRequest } from "../core/modules/declared.js";
import type { ModuleReads } from "../core/modules/index.js";
import type { RemoteHttp } from "./remote-http.js";

export class RemoteModules implements ModuleReads {
  constructor(private readonly http: RemoteHttp) {}

  records(
    registry: string,
    opts: { name?: string; limit?: number } = {},
  ): ReturnType<ModuleReads["records"]> {
    return this.http.ok(
      this.http.client.modules.records[":registry"].$get({
        param: { registry },
        query: {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.limit !== undefined ? { limit: String(opts.limit) } : {}),
        },
      }),
      `listing ${registry}`,
    );
  }

  create(registry: string, values: Record<string, unknown>): ReturnType<ModuleReads["create"]> {
    return this.http.ok(
      this.http.client.modules.records[":registry"].$post({ param: { registry }, json: values }),
      `creating a ${registry}`,
    );
  }

  update(
    registry: string,
    uid: string,
    values: Record<string, unknown>,
  ): ReturnType<ModuleReads["update"]> {
    return this.http.ok(
      this.http.client.modules.records[":registry"][":uid"].$patch({
        param: { registry, uid },
        json: values,
      }),
      `changing the ${registry} ${uid}`,
    );
  }

  delete(
    registry: string,
    uid: string,
    opts: { permanent?: boolean } = {},
  ): ReturnType<ModuleReads["delete"]> {
    return this.http.ok(
      this.http.client.modules.records[":registry"][":uid"].$delete({
        param: { registry, uid },
        query: opts.permanent ? { permanent: "true" } : {},
      }),
      `deleting the ${registry} ${uid}`,
    );
  }

  list(): ReturnType<ModuleReads["list"]> {
    return this.http.ok(this.http.client.modules.$get(), "listing modules");
  }

  search(
    registry: string,
    query: string,
    opts: { limit?: number } = {},
  ): ReturnType<ModuleReads["search"]> {
    return this.http.ok(
      this.http.client.modules.search[":registry"].$get({
        param: { registry },
        query: { q: query, ...(opts.limit !== undefined ? { limit: String(opts.limit) } : {}) },
      }),
      `searching ${registry}`,
    );
  }

  async change(name: string, req: ModuleChangeRequest = {}): ReturnType<ModuleReads["change"]> {
    const { dry_run, ...rest } = await this.http.ok<
      Omit<ModuleChange, "dryRun"> & { dry_run: boolean }
    >(
      this.http.client.modules[":name"].enable.$post({
        param: { name },
        json: {
          ...(req.declaration !== undefined
            ? { declaration: req.declaration as Record<string, unknown> }
            : {}),
          ...(req.migrations !== undefined ? { migrations: req.migrations } : {}),
          ...(req.dryRun !== undefined ? { dry_run: req.dryRun } : {}),
        },
      }),
      `enabling ${name}`,
    );
    return { ...rest, dryRun: dry_run };
  }

  lookup(field: string, values: readonly string[]): ReturnType<ModuleReads["lookup"]> {
    return this.http.ok(
      this.http.client.modules.lookup.$get({ query: { field, value: [...values] } }),
      `looking up ${field}`,
    );
  }
}
