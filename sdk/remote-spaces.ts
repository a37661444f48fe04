/** Spaces over HTTP (functions/api/routes/spaces.ts): the same calls as `instance.spaces`. */
import type { Space } from "../core/registry/spaces.js";
import type { RemoteHttp } from "./remote-http.js";

export class RemoteSpaces {
  constructor(private readonly http: RemoteHttp) {}

  list(): Promise<Space[]> {
    return this.http.request(`${this.http.url}/spaces`, {}, "listing spaces");
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
