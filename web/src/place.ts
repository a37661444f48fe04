/**
 * Where the UI is: an instance's server (`/ui/...`, API at the root) or the hub (`/ui/...`: the
 * list of instances; `/instances/{owner}/{name}/ui/...`: one instance, API below its path).
 */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Role } from "./api";

export interface Place {
  /** Prefix of the instance API's paths ("" on lamin serve). */
  api: string;
  /** Prefix of the instance's UI pages. */
  ui: string;
  /** What the caller may do on the instance. */
  role: Role;
  /** owner/name, or the instance's name. */
  slug: string;
  hub: boolean;
}

export const PlaceContext = createContext<Place | undefined>(undefined);

export function usePlace(): Place {
  const place = useContext(PlaceContext);
  if (!place) throw new Error("no instance here");
  return place;
}

/** `{ api, ui, rest }` of a hub instance path, or undefined. */
export function hubInstancePath(path: string) {
  const m = /^(\/instances\/([^/]+)\/([^/]+))\/ui(\/.*)?$/.exec(path);
  if (!m) return undefined;
  return {
    api: m[1] as string,
    ui: `${m[1]}/ui`,
    slug: `${decodeURIComponent(m[2] as string)}/${decodeURIComponent(m[3] as string)}`,
    rest: m[4] ?? "/",
  };
}
