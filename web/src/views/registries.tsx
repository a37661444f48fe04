/**
 * Every other registry, drawn from what `GET /registries` says of it (fields, filters, search):
 * a list with search and keyset pages, and a record's page with all its fields, plus what some
 * registries have besides (a transform's source code, a run's parameters and outputs, a
 * collection's members).
 */
import {
  type Annotation,
  type Artifact,
  getJson,
  type LineageGraph,
  type LineageNode,
  type Page,
  type RegistryInfo,
} from "../api";
import { bytes, text, when } from "../format";
import { Link, navigate, useLocation } from "../nav";
import { usePlace } from "../place";
import { ErrorNote, Show, useLoad } from "./common";

let registries: Promise<RegistryInfo[]> | undefined;
let registriesOf: string | undefined;
/** The registries of the instance at `api` (asked once per instance). */
export function registryInfo(api: string): Promise<RegistryInfo[]> {
  if (!registries || registriesOf !== api) {
    registriesOf = api;
    registries = getJson<RegistryInfo[]>(`${api}/registries`);
    registries.catch(() => {
      registries = undefined;
    });
  }
  return registries;
}

/** Fields shown as list columns: short values, at most six. */
const LONG = new Set(["json", "list"]);
function listColumns(info: RegistryInfo): string[] {
  return Object.entries(info.fields)
    .filter(([name, f]) => !LONG.has(f.type) && !["source_code", "hash", "uid"].includes(name))
    .map(([name]) => name)
    .slice(0, 6);
}

type Row = Record<string, unknown> & { uid: string };

export function RegistryView({ plural }: { plural: string }) {
  const place = usePlace();
  const { path, query } = useLocation();
  const q = query.get("q") ?? "";
  const cursor = query.get("cursor") ?? undefined;
  const [loaded] = useLoad(async () => {
    const info = (await registryInfo(place.api)).find((r) => r.plural === plural);
    if (!info) throw new Error(`no registry ${plural}`);
    const search = info.search[0];
    const page = await getJson<Page<Row>>(`${place.api}/${plural}`, {
      limit: 50,
      ...(q && search ? { [`${search}__icontains`]: q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    return { info, page };
  }, [place.api, plural, q, cursor]);
  return (
    <Show loaded={loaded}>
      {({ info, page }) => {
        const columns = listColumns(info);
        return (
          <section>
            <h1>{info.title}s</h1>
            <p class="muted">{info.doc}</p>
            {info.search[0] && (
              <form
                class="inline"
                onSubmit={(e) => {
                  e.preventDefault();
                  const v = String(
                    new FormData(e.currentTarget as HTMLFormElement).get("q") ?? "",
                  ).trim();
                  navigate(v ? `${path}?q=${encodeURIComponent(v)}` : path);
                }}
              >
                <label for="registry-q">Search {info.search[0]}</label>
                <input id="registry-q" name="q" type="search" defaultValue={q} />
                <button type="submit">Search</button>
              </form>
            )}
            <table class="grid">
              <caption class="muted">
                {page.items.length === 0
                  ? "Nothing here."
                  : `${page.items.length} on this page, newest first.`}
              </caption>
              <thead>
                <tr>
                  <th scope="col">uid</th>
                  {columns.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.items.map((r) => (
                  <tr key={r.uid}>
                    <td>
                      <Link href={`${place.ui}/registries/${plural}/${r.uid}`}>{r.uid}</Link>
                    </td>
                    {columns.map((c) => (
                      <td key={c}>{value(info, c, r[c], place.ui)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            <nav class="pager" aria-label="Pages">
              {cursor && (
                <button type="button" onClick={() => history.back()}>
                  Previous page
                </button>
              )}
              {page.next_cursor && (
                <button
                  type="button"
                  onClick={() =>
                    navigate(
                      `${path}?${new URLSearchParams({ ...(q ? { q } : {}), cursor: page.next_cursor as string })}`,
                    )
                  }
                >
                  Next page
                </button>
              )}
            </nav>
          </section>
        );
      }}
    </Show>
  );
}

function value(info: RegistryInfo, field: string, v: unknown, ui: string) {
  const f = info.fields[field];
  if (f?.ref && typeof v === "string")
    return <Link href={`${ui}/registries/${f.ref}/${v}`}>{v}</Link>;
  if (f?.type === "date" && typeof v === "string") return <time dateTime={v}>{when(v)}</time>;
  return text(v);
}

export function RecordView({ plural, uid }: { plural: string; uid: string }) {
  const place = usePlace();
  const [loaded] = useLoad(async () => {
    const info = (await registryInfo(place.api)).find((r) => r.plural === plural);
    if (!info) throw new Error(`no registry ${plural}`);
    return { info, record: await getJson<Row>(`${place.api}/${plural}/${uid}`) };
  }, [place.api, plural, uid]);
  return (
    <Show loaded={loaded}>
      {({ info, record }) => (
        <article>
          <p class="muted">{info.title}</p>
          <h1>{String(record.key ?? record.name ?? record.uid)}</h1>
          <dl class="facts">
            {Object.keys(info.fields)
              .filter((f) => !["source_code", "params", "artifacts"].includes(f))
              .map((f) => [
                <dt key={`t-${f}`}>{f}</dt>,
                <dd key={`d-${f}`}>
                  {value(info, f, record[f], place.ui) || <span class="muted">none</span>}
                </dd>,
              ])}
          </dl>
          {plural === "transforms" && (
            <section aria-labelledby="source">
              <h2 id="source">Source code</h2>
              {record.source_code ? (
                <pre>
                  <code>{String(record.source_code)}</code>
                </pre>
              ) : (
                <p class="muted">No source code was saved.</p>
              )}
            </section>
          )}
          {plural === "runs" && <RunExtras run={record} />}
          {plural === "collections" && <Members uid={uid} />}
        </article>
      )}
    </Show>
  );
}

function ArtifactList({ items }: { items: Artifact[] }) {
  const place = usePlace();
  if (items.length === 0) return <p class="muted">None.</p>;
  return (
    <ul>
      {items.map((a) => (
        <li key={a.uid}>
          <Link href={`${place.ui}/artifacts/${a.uid}`}>{a.key ?? a.uid}</Link>{" "}
          <span class="muted">{bytes(a.size)}</span>
        </li>
      ))}
    </ul>
  );
}

function RunExtras({ run }: { run: Row }) {
  const place = usePlace();
  const [loaded] = useLoad(async () => {
    const [outputs, annotation] = await Promise.all([
      getJson<Page<Artifact>>(`${place.api}/artifacts`, {
        run__uid: run.uid,
        all_versions: true,
        limit: 200,
      }),
      getJson<Annotation>(`${place.api}/runs/${run.uid}/features`),
    ]);
    // a run's inputs, from the lineage of one of its outputs (one run deep, upstream); the
    // API has no list of a run's inputs of its own
    const made = outputs.items.find((a) => a.kind !== "__lamindb_run__");
    const graph = made
      ? await getJson<LineageGraph>(`${place.api}/artifacts/${made.uid}/lineage`, {
          direction: "upstream",
          depth: 1,
        })
      : undefined;
    const inputs = graph?.edges
      .filter((e) => e.kind === "input" && e.to === run.uid)
      .map((e) => graph.nodes.find((n) => n.id === e.from) as LineageNode)
      .filter(Boolean);
    return { outputs: outputs.items, annotation, inputs };
  }, [place.api, run.uid]);
  return (
    <>
      <section aria-labelledby="params">
        <h2 id="params">Parameters</h2>
        {run.params ? (
          <pre>
            <code>{JSON.stringify(run.params, null, 2)}</code>
          </pre>
        ) : (
          <p class="muted">None.</p>
        )}
      </section>
      <Show loaded={loaded}>
        {({ outputs, annotation, inputs }) => (
          <>
            <section aria-labelledby="run-features">
              <h2 id="run-features">Features</h2>
              {Object.keys(annotation.features).length === 0 ? (
                <p class="muted">None.</p>
              ) : (
                <pre>
                  <code>{JSON.stringify(annotation.features, null, 2)}</code>
                </pre>
              )}
            </section>
            <section aria-labelledby="inputs">
              <h2 id="inputs">Inputs</h2>
              {inputs === undefined ? (
                <p class="muted">Shown through the lineage of its outputs: it has none.</p>
              ) : inputs.length === 0 ? (
                <p class="muted">None.</p>
              ) : (
                <ul>
                  {inputs.map((n) => (
                    <li key={n.id}>
                      <Link
                        href={`${place.ui}/${n.type === "artifact" ? "artifacts" : "registries/collections"}/${n.id}`}
                      >
                        {n.label}
                      </Link>{" "}
                      <span class="muted">{n.type}</span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="outputs">
              <h2 id="outputs">Outputs</h2>
              <ArtifactList items={outputs.filter((a) => a.kind !== "__lamindb_run__")} />
            </section>
            <section aria-labelledby="reports">
              <h2 id="reports">Report, logs and environment</h2>
              <ArtifactList items={outputs.filter((a) => a.kind === "__lamindb_run__")} />
            </section>
          </>
        )}
      </Show>
    </>
  );
}

function Members({ uid }: { uid: string }) {
  const place = usePlace();
  const [loaded] = useLoad(
    () => getJson<Artifact[] | Page<Artifact>>(`${place.api}/collections/${uid}/members`),
    [place.api, uid],
  );
  return (
    <section aria-labelledby="members">
      <h2 id="members">Members</h2>
      {loaded.state === "error" ? (
        <ErrorNote error={loaded.error} />
      ) : (
        <Show loaded={loaded}>
          {(m) => <ArtifactList items={Array.isArray(m) ? m : m.items} />}
        </Show>
      )}
    </section>
  );
}
