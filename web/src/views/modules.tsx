/**
 * Modules (bionty, ...): which the instance has enabled, and a ranked search of each enabled
 * registry (GET /modules/search/{registry}), LaminDB's `.search` of ontology records; the
 * registries of modules of their own packages link to their records (module-records.tsx).
 */
import { getJson } from "../api";
import { Link, navigate, useLocation } from "../nav";
import { usePlace } from "../place";
import { Show, useLoad } from "./common";

interface ModuleInfo {
  name: string;
  description: string;
  enabled: boolean;
  /** a module of its own package: its registries' records are listed by the generic routes */
  package: boolean;
  registries: string[];
}

interface Hit {
  uid: string;
  name: string;
  id: string | null;
  synonyms: string[];
  match: string;
  score: number;
}

export function ModulesView() {
  const place = usePlace();
  const { path, query } = useLocation();
  const registry = query.get("registry") ?? "";
  const q = query.get("q") ?? "";
  const [loaded] = useLoad(async () => {
    const modules = await getJson<ModuleInfo[]>(`${place.api}/modules`);
    const hits =
      registry && q
        ? (
            await getJson<{ hits: Hit[] }>(
              `${place.api}/modules/search/${encodeURIComponent(registry)}`,
              { q, limit: 50 },
            )
          ).hits
        : undefined;
    return { modules: Array.isArray(modules) ? modules : [], hits };
  }, [place.api, registry, q]);
  return (
    <section>
      <h1>Modules</h1>
      <Show loaded={loaded}>
        {({ modules, hits }) => {
          const enabled = modules.filter((m) => m.enabled);
          const registries = enabled.flatMap((m) => m.registries);
          return (
            <>
              <ul>
                {modules.map((m) => (
                  <li key={m.name}>
                    <strong>{m.name}</strong>{" "}
                    <span class="muted">{m.enabled ? "enabled" : "not enabled"}</span> —{" "}
                    {m.description}
                    {m.enabled && m.package && m.registries.length > 0 && (
                      <ul>
                        {m.registries.map((r) => (
                          <li key={r}>
                            <Link href={`${place.ui}/modules/${encodeURIComponent(r)}`}>{r}</Link>
                          </li>
                        ))}
                      </ul>
                    )}
                  </li>
                ))}
              </ul>
              {registries.length === 0 ? (
                <p class="muted">No module is enabled (lamin module enable bionty).</p>
              ) : (
                <form
                  class="inline"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const form = new FormData(e.currentTarget as HTMLFormElement);
                    const params = new URLSearchParams({
                      registry: String(form.get("registry") ?? ""),
                      q: String(form.get("q") ?? "").trim(),
                    });
                    navigate(`${path}?${params}`);
                  }}
                >
                  <label for="module-registry">Registry</label>
                  <select id="module-registry" name="registry">
                    {registries.map((r) => (
                      // (a select's defaultValue is not Preact's: the option says it)
                      <option key={r} value={r} selected={r === (registry || registries[0])}>
                        {r}
                      </option>
                    ))}
                  </select>
                  <label for="module-q">Search</label>
                  <input
                    id="module-q"
                    name="q"
                    type="search"
                    required
                    defaultValue={q}
                    placeholder="t cell"
                  />
                  <button type="submit">Search</button>
                </form>
              )}
              {hits && (
                <table class="grid">
                  <caption class="muted">
                    {hits.length === 0 ? "No match." : `${hits.length} matches, best first.`}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Ontology id</th>
                      <th scope="col">Match</th>
                      <th scope="col">Synonyms</th>
                    </tr>
                  </thead>
                  <tbody>
                    {hits.map((h) => (
                      <tr key={h.uid}>
                        <td>{h.name}</td>
                        <td>
                          <code>{h.id}</code>
                        </td>
                        <td>{h.match}</td>
                        <td>{h.synonyms.join(", ")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}
