/** Spaces over HTTP (functions/api/routes/spaces.ts): the same calls as `instance.spaces`. */
import { NotFoundError } from "../core/errors.js";
import type { Space } from "../core/registry/spaces.js";
import type { RemoteHttp } from "./remote-http.js";

export class RemoteSpaces {
  constructor(private readonly http: RemoteHttp) {}

  list(): Promise<Space[]> {
    return this.http.request(`${this.http.url}/spaces`, {}, "listing spaces");
  }

  /** A space by name (whatever its case) or uid, among those the caller may see. */
  async get(ref: string): Promise<Space> {
    const all = await this.list();
    const found = all.find((s) => s.uid === ref || s.name.toLowerCase() === ref.toLowerCase());
    if (!found) {
      throw new NotFoundError(
        `no space '${ref.slice(0, 100)}'; the spaces you can use: ${all.map((s) => s.name).join(", ")}`,
        "name one of them (lamin list space); an admin creates a space with lamin create space NAME",
      );
    }
    return found;
  }

  create(name: string, opts: { description?: string } = {}): Promise<Space> {
    return this.http.request(
      `${this.http.url}/spaces`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, ...opts }),
      },
      `creating space ${name}`,
    );
  }
}
