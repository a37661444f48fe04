/**
 * Instance databases on Neon: one database per instance in the default branch of one project,
 * owned by one role, made through Neon's API (v2) with `@neondatabase/api-client`.
 */
import type { Api } from "@neondatabase/api-client";
import { ConflictError, LaminError, UnavailableError } from "../errors.js";
import { databaseNameFor } from "./postgres-provisioner.js";
import type { DatabaseProvisioner } from "./provision.js";

export interface NeonOptions {
  apiKey: string;
  projectId: string;
  /** Default: https://console.neon.tech/api/v2 (tests point it at a stand-in). */
  apiUrl?: string;
  /** Role that owns the instance databases; created when missing. Default `lamin`. */
  roleName?: string;
  /** How long to wait for Neon's operations to finish. */
  timeoutMs?: number;
}

/** Neon's operations run in the background; these statuses end one. */
const DONE = new Set(["finished", "skipped"]);
const FAILED = new Set(["failed", "error", "cancelled"]);

export class NeonProvisioner implements DatabaseProvisioner {
  private client: Api<unknown> | undefined;
  private readonly clientOptions: Parameters<
    typeof import("@neondatabase/api-client")["createApiClient"]
  >[0];
  private readonly projectId: string;
  private readonly roleName: string;
  private readonly timeoutMs: number;

  constructor(opts: NeonOptions) {
    this.clientOptions = {
      apiKey: opts.apiKey,
      ...(opts.apiUrl ? { baseURL: opts.apiUrl } : {}),
      timeout: 30_000,
    };
    this.projectId = opts.projectId;
    this.roleName = opts.roleName ?? "lamin";
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** The API client, made once it is needed: it (and axios) is heavy for a function's start. */
  private get api(): Api<unknown> {
    if (!this.client) throw new Error("NeonProvisioner: the API client is not loaded");
    return this.client;
  }

  private async load(): Promise<void> {
    if (this.client) return;
    const { createApiClient } = await import("@neondatabase/api-client");
    this.client = createApiClient(this.clientOptions);
  }

  async create(owner: string, name: string): Promise<{ url: string }> {
    await this.load();
    const database = databaseNameFor(owner, name);
    const { projectId, roleName } = this;
    const branchId = await this.call("find the default branch", () => this.defaultBranch());
    await this.call("create the role", async () => {
      const { data } = await this.api.listProjectBranchRoles(projectId, branchId);
      if (data.roles.some((r) => r.name === roleName)) return;
      const created = await this.api.createProjectBranchRole(projectId, branchId, {
        role: { name: roleName },
      });
      await this.settle(created.data.operations);
    });
    const made = await this.call("create the database", () =>
      this.api.createProjectBranchDatabase(projectId, branchId, {
        database: { name: database, owner_name: roleName },
      }),
    );
    try {
      await this.call("create the database", () => this.settle(made.data.operations));
      const { data } = await this.call("get the connection URI", () =>
        this.api.getConnectionUri({
          projectId,
          branch_id: branchId,
          database_name: database,
          role_name: roleName,
        }),
      );
      return { url: data.uri };
    } catch (error) {
      await this.deleteDatabase(branchId, database).catch(() => {});
      throw error;
    }
  }

  async drop(url: string): Promise<void> {
    await this.load();
    const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
    const branchId = await this.call("find the default branch", () => this.defaultBranch());
    await this.call("delete the database", () => this.deleteDatabase(branchId, database));
  }

  private async deleteDatabase(branchId: string, database: string): Promise<void> {
    const { data } = await this.api.deleteProjectBranchDatabase(this.projectId, branchId, database);
    await this.settle(data.operations);
  }

  private async defaultBranch(): Promise<string> {
    const { data } = await this.api.listProjectBranches({ projectId: this.projectId });
    const branch = data.branches.find((b) => b.default);
    if (!branch) throw new Error(`project ${this.projectId} has no default branch`);
    return branch.id;
  }

  /** Wait until every operation has finished: the database is usable only then. */
  private async settle(operations: { id: string; status: string }[]): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (const op of operations) {
      let status = op.status;
      while (!DONE.has(status)) {
        if (FAILED.has(status)) throw new Error(`Neon operation ${op.id} ${status}`);
        if (Date.now() > deadline) throw new Error(`Neon operation ${op.id} did not finish`);
        await new Promise((r) => setTimeout(r, 500));
        const { data } = await this.api.getProjectOperation(this.projectId, op.id);
        status = data.operation.status;
      }
    }
  }

  /**
   * Neon's HTTP errors as LaminErrors that say what was being done, by status: Neon's own text
   * (and the URLs of a network error) stay in the cause, for the hub's log.
   */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof LaminError) throw error;
      const status = (error as { response?: { status?: number } }).response?.status;
      const cause = { cause: error };
      const failed = (why: string) => `Neon: could not ${what}: ${why}`;
      if (status === 401 || status === 403) {
        throw new LaminError(
          "unauthenticated",
          failed(`the API key was refused (HTTP ${status})`),
          "check NEON_API_KEY",
          cause,
        );
      }
      if (status === 409) {
        throw new ConflictError(
          failed("it exists already (HTTP 409)"),
          "choose another instance name",
          cause,
        );
      }
      throw new UnavailableError(
        failed(status ? `Neon answered HTTP ${status}` : "Neon's API cannot be reached"),
        "check NEON_PROJECT_ID and Neon's status",
        cause,
      );
    }
  }
}
