/** Schemas: the list, and one schema's features (or a composite's slots). */
import { getJson } from "../api";
import { text, when } from "../format";
import { Link } from "../nav";
import { usePlace } from "../place";
import { Show, useLoad } from "./common";

type Schema = Record<string, unknown> & { uid: string; name: string | null };

export function SchemasView() {
  const place = usePlace();
  const [loaded] = useLoad(async () => {
    const r = await getJson<Schema[] | { items: Schema[] }>(`${place.api}/schemas`);
    return Array.isArray(r) ? r : r.items;
  }, [place.api]);
  return (
    <section>
      <h1>Schemas</h1>
      <Show loaded={loaded}>
        {(items) =>
          items.length === 0 ? (
            <p class="muted">No schemas.</p>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">uid</th>
                  <th scope="col">Created at</th>
                </tr>
              </thead>
              <tbody>
                {items.map((s) => (
                  <tr key={s.uid}>
                    <td>
                      <Link href={`${place.ui}/schemas/${encodeURIComponent(s.name ?? s.uid)}`}>
                        {s.name ?? s.uid}
                      </Link>
                    </td>
                    <td>
                      <code>{s.uid}</code>
                    </td>
                    <td>{when(s.created_at as string)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}

export function SchemaView({ ref_ }: { ref_: string }) {
  const place = usePlace();
  const [loaded] = useLoad(
    () => getJson<Schema>(`${place.api}/schemas/${encodeURIComponent(ref_)}`),
    [place.api, ref_],
  );
  return (
    <Show loaded={loaded}>
      {(s) => (
        <article>
          <p class="muted">Schema</p>
          <h1>{s.name ?? s.uid}</h1>
          <dl class="facts">
            {Object.entries(s)
              .filter(([, v]) => typeof v !== "object" || v === null)
              .map(([k, v]) => [<dt key={`t-${k}`}>{k}</dt>, <dd key={`d-${k}`}>{text(v)}</dd>])}
          </dl>
          {Object.entries(s)
            .filter(([, v]) => typeof v === "object" && v !== null)
            .map(([k, v]) => (
              <section key={k}>
                <h2>{k}</h2>
                <pre>
                  <code>{JSON.stringify(v, null, 2)}</code>
                </pre>
              </section>
            ))}
        </article>
      )}
    </Show>
  );
}
