/** Branches over HTTP (functions/api/routes/branches.ts): the same calls as `instance.branches`. */
import type { Branch, BranchChange, MergeResult } from "../core/registry/branches.js";
import type { RemoteHttp } from "./remote-http.js";

export class RemoteBranches {
  constructor(private readonly http: RemoteHttp) {}

  private url(ref?: string, tail = ""): string {
    return `${this.http.url}/branches${ref === undefined ? "" : `/${encodeURIComponent(ref)}`}${tail}`;
  }

  list(): Promise<Branch[]> {
    return this.http.request(this.url(), {}, "listing branches");
  }

  get(ref: string): Promise<Branch> {
    return this.http.request(this.url(ref), {}, `reading branch ${ref}`);
  }

  create(name: string, opts: { description?: string } = {}): Promise<Branch> {
    return this.http.request(
      this.url(),
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, ...opts }),
      },
      `creating branch ${name}`,
    );
  }

  update(ref: string, changes: { status?: string; description?: string | null }): Promise<Branch> {
    return this.http.request(
      this.url(ref),
      {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(changes),
      },
      `updating branch ${ref}`,
    );
  }

  changes(ref: string, opts: { limit?: number } = {}): Promise<BranchChange[]> {
    const query = opts.limit !== undefined ? `?limit=${opts.limit}` : "";
    return this.http.request(this.url(ref, `/changes${query}`), {}, `listing changes of ${ref}`);
  }

  merge(ref: string, opts: { target?: string } = {}): Promise<MergeResult> {
    const query = opts.target ? `?target=${encodeURIComponent(opts.target)}` : "";
    return this.http.request(
      this.url(ref, `/merge${query}`),
      { method: "POST" },
      `merging branch ${ref}`,
    );
  }
}
