/** An instance's start page: what it is, its README (when the instance has one), recent artifacts. */
import { type Artifact, getJson, type Page } from "../api";
import { bytes, when } from "../format";
import { Markdown } from "../markdown";
import { Link } from "../nav";
import { usePlace } from "../place";
import { Show, useLoad } from "./common";

interface InstanceInfo {
  instance: string;
  uid: string;
  storage: { root: string } | string;
  user?: unknown;
  readme?: string | null;
}

export function Overview() {
  const place = usePlace();
  const [loaded] = useLoad(async () => {
    const [info, recent, modules] = await Promise.all([
      getJson<InstanceInfo>(`${place.api}/instance`),
      getJson<Page<Artifact>>(`${place.api}/artifacts`, { limit: 10 }),
      getJson<{ name: string; enabled: boolean }[]>(`${place.api}/modules`).catch(() => []),
    ]);
    return { info, recent: recent.items, modules: Array.isArray(modules) ? modules : [] };
  }, [place.api]);
  return (
    <Show loaded={loaded}>
      {({ info, recent, modules }) => (
        <section>
          <h1>{place.slug}</h1>
          <dl class="facts">
            <dt>uid</dt>
            <dd>
              <code>{info.uid}</code>
            </dd>
            <dt>storage</dt>
            <dd>
              <code>{typeof info.storage === "string" ? info.storage : info.storage.root}</code>
            </dd>
            <dt>your role</dt>
            <dd>{place.role}</dd>
            <dt>modules</dt>
            <dd>
              {modules
                .filter((m) => m.enabled)
                .map((m) => m.name)
                .join(", ") || "none"}
            </dd>
          </dl>
          {info.readme && (
            <section aria-labelledby="readme">
              <h2 id="readme">README</h2>
              <Markdown source={info.readme} />
            </section>
          )}
          <h2>Recent artifacts</h2>
          {recent.length === 0 ? (
            <p class="muted">No artifacts yet.</p>
          ) : (
            <ul>
              {recent.map((a) => (
                <li key={a.uid}>
                  <Link href={`${place.ui}/artifacts/${a.uid}`}>{a.key ?? a.uid}</Link>{" "}
                  <span class="muted">
                    {bytes(a.size)} · {when(a.created_at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <p>
            <Link href={`${place.ui}/artifacts`}>All artifacts →</Link>
          </p>
        </section>
      )}
    </Show>
  );
}
