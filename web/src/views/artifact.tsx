/**
 * One artifact: its header (key, uid, versions, size, hash, creator, run), features and labels,
 * versions, collections, a download, a preview, the code to load it, and its lineage. Write
 * controls only for a role that may write.
 */
import { useState } from "preact/hooks";
import {
  type Annotation,
  type Artifact,
  canWrite,
  getJson,
  type LineageGraph,
  type Page,
  sendJson,
} from "../api";
import { bytes, text, when } from "../format";
import { Link, navigate } from "../nav";
import { usePlace } from "../place";
import { CopyButton, ErrorNote, Show, useLoad } from "./common";
import { LineageView } from "./lineage";
import { Preview } from "./preview";

interface Collection {
  uid: string;
  key: string;
  artifacts: string[];
}

export function ArtifactPage({ uid }: { uid: string }) {
  const place = usePlace();
  const [loaded, reload] = useLoad(async () => {
    const base = `${place.api}/artifacts/${uid}`;
    const artifact = await getJson<Artifact>(base);
    const [versions, annotation] = await Promise.all([
      getJson<Artifact[]>(`${base}/versions`),
      getJson<Annotation>(`${base}/features`),
    ]);
    return { artifact, versions, annotation };
  }, [place.api, uid]);
  return (
    <Show loaded={loaded}>
      {({ artifact, versions, annotation }) => (
        <ArtifactBody
          artifact={artifact}
          versions={versions}
          annotation={annotation}
          reload={reload}
        />
      )}
    </Show>
  );
}

function ArtifactBody(props: {
  artifact: Artifact;
  versions: Artifact[];
  annotation: Annotation;
  reload: () => void;
}) {
  const { artifact: a, versions, annotation } = props;
  const place = usePlace();
  const writer = canWrite(place.role);
  const trashed = a.branch === "trash";
  const [error, setError] = useState<unknown>();
  const act = async (work: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await work();
      props.reload();
    } catch (e) {
      setError(e);
    }
  };
  const base = `${place.api}/artifacts/${a.uid}`;
  return (
    <article class="artifact">
      <header>
        <p class="muted">Artifact{trashed ? " (in the trash)" : ""}</p>
        <h1>{a.key ?? a.uid}</h1>
        <dl class="facts">
          <dt>uid</dt>
          <dd>
            <code>{a.uid}</code> <CopyButton text={a.uid} label="copy the uid" />
          </dd>
          <dt>space</dt>
          <dd class="space">{a.space}</dd>
          <dt>
            <label for="version">version</label>
          </dt>
          <dd>
            <select
              id="version"
              value={a.uid}
              onChange={(e) =>
                navigate(`${place.ui}/artifacts/${(e.target as HTMLSelectElement).value}`)
              }
            >
              {versions.map((v) => (
                <option key={v.uid} value={v.uid}>
                  {v.version}
                  {v.is_latest ? " (latest)" : ""} · {when(v.created_at)}
                </option>
              ))}
            </select>
          </dd>
          <dt>size</dt>
          <dd>{a.n_files !== null ? `${bytes(a.size)} in ${a.n_files} files` : bytes(a.size)}</dd>
          <dt>hash</dt>
          <dd>
            <code>{a.hash}</code> <span class="muted">{a.hash_type}</span>
          </dd>
          <dt>created</dt>
          <dd>
            by {a.created_by} at <time dateTime={a.created_at}>{when(a.created_at)}</time>
          </dd>
          <dt>run</dt>
          <dd>
            {a.run ? <Link href={`${place.ui}/registries/runs/${a.run}`}>{a.run}</Link> : "none"}
          </dd>
          <dt>storage</dt>
          <dd>
            <code>{a.path}</code>
          </dd>
        </dl>
        <div class="row">
          <a class="button" href={`${base}/download?redirect=true`} download>
            Download
          </a>
          {writer && !trashed && (
            <button
              type="button"
              class="danger"
              onClick={() => act(() => sendJson("DELETE", base))}
            >
              Move to trash
            </button>
          )}
          {writer && trashed && (
            <button type="button" onClick={() => act(() => sendJson("POST", `${base}/restore`))}>
              Restore
            </button>
          )}
        </div>
        {error !== undefined && <ErrorNote error={error} />}
      </header>

      <Description artifact={a} writer={writer} act={act} />

      <section aria-labelledby="annotations">
        <h2 id="annotations">Features and labels</h2>
        <Annotations annotation={annotation} writer={writer} base={base} act={act} />
      </section>

      <section aria-labelledby="schema">
        <h2 id="schema">Validated against</h2>
        {annotation.schemas?.length ? (
          <ul>
            {annotation.schemas.map((s) => (
              <li key={`${s.slot}:${s.uid}`}>
                <Link href={`${place.ui}/schemas/${encodeURIComponent(s.name ?? s.uid)}`}>
                  {s.name ?? s.uid}
                </Link>
                {s.slot && s.slot !== "columns" && <span class="muted"> (slot {s.slot})</span>}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No schema.</p>
        )}
      </section>

      <section aria-labelledby="preview">
        <h2 id="preview">Preview</h2>
        <Preview artifact={a} url={`${base}/download`} />
      </section>

      <section aria-labelledby="load">
        <h2 id="load">Load it</h2>
        <LoadCode artifact={a} />
      </section>

      <section aria-labelledby="lineage">
        <h2 id="lineage">Lineage</h2>
        <Lineage uid={a.uid} />
      </section>

      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <ul>
          {versions.map((v) => (
            <li key={v.uid}>
              <Link
                href={`${place.ui}/artifacts/${v.uid}`}
                aria-current={v.uid === a.uid ? "page" : undefined}
              >
                {v.version}
              </Link>{" "}
              <span class="muted">
                {bytes(v.size)} · {when(v.created_at)}
                {v.is_latest ? " · latest" : ""}
              </span>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="collections">
        <h2 id="collections">Collections</h2>
        <Collections uid={a.uid} />
      </section>
    </article>
  );
}

function Description(props: {
  artifact: Artifact;
  writer: boolean;
  act: (work: () => Promise<unknown>) => Promise<void>;
}) {
  const place = usePlace();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(props.artifact.description ?? "");
  return (
    <section aria-labelledby="description">
      <h2 id="description">Description</h2>
      {!editing && <p>{props.artifact.description || <span class="muted">none</span>}</p>}
      {props.writer && !editing && (
        <button type="button" class="small" onClick={() => setEditing(true)}>
          Edit description
        </button>
      )}
      {editing && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            await props.act(() =>
              sendJson("PATCH", `${place.api}/artifacts/${props.artifact.uid}`, {
                description: value.trim() || null,
              }),
            );
            setEditing(false);
          }}
        >
          <label for="description-input">Description</label>
          <textarea
            id="description-input"
            rows={3}
            value={value}
            onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
          />
          <div class="row">
            <button type="submit">Save</button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function Annotations(props: {
  annotation: Annotation;
  writer: boolean;
  base: string;
  act: (work: () => Promise<unknown>) => Promise<void>;
}) {
  const { annotation, writer, base, act } = props;
  const [label, setLabel] = useState("");
  const [feature, setFeature] = useState("");
  const features = Object.entries(annotation.features);
  const labels: [string, string[]][] = [
    ["ulabels", annotation.ulabels],
    ["projects", annotation.projects],
    ["records", annotation.records],
  ];
  return (
    <>
      {features.length === 0 ? (
        <p class="muted">No feature values.</p>
      ) : (
        <table class="grid compact">
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">Value</th>
              {writer && <th scope="col">Remove</th>}
            </tr>
          </thead>
          <tbody>
            {features.map(([name, value]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{text(value)}</td>
                {writer && (
                  <td>
                    <button
                      type="button"
                      class="small"
                      aria-label={`remove the value of ${name}`}
                      onClick={() =>
                        act(() => sendJson("POST", `${base}/features/remove`, { features: [name] }))
                      }
                    >
                      remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ul class="chips" aria-label="Labels">
        {labels.flatMap(([kind, names]) =>
          names.map((name) => (
            <li key={`${kind}:${name}`} class="chip">
              <span class="muted">{kind === "ulabels" ? "label" : kind.slice(0, -1)}</span> {name}
              {writer && (
                <button
                  type="button"
                  class="chip-x"
                  aria-label={`remove ${kind === "ulabels" ? "label" : kind.slice(0, -1)} ${name}`}
                  onClick={() =>
                    act(() => sendJson("POST", `${base}/features/remove`, { [kind]: [name] }))
                  }
                >
                  ×
                </button>
              )}
            </li>
          )),
        )}
        {labels.every(([, n]) => n.length === 0) && <li class="muted">No labels.</li>}
      </ul>
      {writer && (
        <div class="row wrap">
          <form
            class="inline"
            onSubmit={async (e) => {
              e.preventDefault();
              if (!label.trim()) return;
              await act(() => sendJson("POST", `${base}/features`, { ulabels: [label.trim()] }));
              setLabel("");
            }}
          >
            <label for="add-label">Add label</label>
            <input
              id="add-label"
              value={label}
              onInput={(e) => setLabel((e.target as HTMLInputElement).value)}
              placeholder="an existing label"
            />
            <button type="submit">Add</button>
          </form>
          <form
            class="inline"
            onSubmit={async (e) => {
              e.preventDefault();
              const m = /^\s*([^=]+?)\s*=\s*(.*?)\s*$/.exec(feature);
              if (!m) return;
              await act(() =>
                sendJson("POST", `${base}/features`, {
                  features: { [m[1] as string]: m[2] },
                  from_text: true,
                  remove: [m[1]],
                }),
              );
              setFeature("");
            }}
          >
            <label for="add-feature">Set feature value</label>
            <input
              id="add-feature"
              value={feature}
              onInput={(e) => setFeature((e.target as HTMLInputElement).value)}
              placeholder="temperature=37.5"
            />
            <button type="submit">Set</button>
          </form>
        </div>
      )}
    </>
  );
}

function LoadCode({ artifact }: { artifact: Artifact }) {
  const place = usePlace();
  const target = place.hub
    ? `"${place.slug}"`
    : `"${location.origin}", { token: process.env.LAMIN_API_TOKEN }`;
  const ts = `import { connect } from "lamindb-serverless";\n\nconst ln = await connect(${target});\nconst artifact = await ln.artifacts.get("${artifact.uid}");\nconst path = await ln.artifacts.load("${artifact.uid}"); // a verified local copy`;
  const py = `import lamindb as ln\n\nartifact = ln.Artifact.get("${artifact.uid}")\ndata = artifact.load()  # or artifact.cache() for a local path`;
  return (
    <div class="code-pair">
      <figure>
        <figcaption>
          TypeScript <CopyButton text={ts} label="copy the TypeScript code" />
        </figcaption>
        <pre>
          <code>{ts}</code>
        </pre>
      </figure>
      <figure>
        <figcaption>
          Python <CopyButton text={py} label="copy the Python code" />
        </figcaption>
        <pre>
          <code>{py}</code>
        </pre>
      </figure>
    </div>
  );
}

function Lineage({ uid }: { uid: string }) {
  const place = usePlace();
  const [loaded] = useLoad(
    () => getJson<LineageGraph>(`${place.api}/artifacts/${uid}/lineage`, { depth: 3 }),
    [place.api, uid],
  );
  return (
    <Show loaded={loaded}>
      {(g) =>
        g.edges.length === 0 ? (
          <p class="muted">No run made or read it.</p>
        ) : (
          <LineageView graph={g} />
        )
      }
    </Show>
  );
}

function Collections({ uid }: { uid: string }) {
  const place = usePlace();
  // the API has no reverse lookup yet: the newest 200 collections are checked
  const [loaded] = useLoad(
    () => getJson<Page<Collection>>(`${place.api}/collections`, { limit: 200 }),
    [place.api, uid],
  );
  return (
    <Show loaded={loaded}>
      {(page) => {
        const mine = page.items.filter((c) => c.artifacts.includes(uid));
        if (mine.length === 0) return <p class="muted">In no collection.</p>;
        return (
          <ul>
            {mine.map((c) => (
              <li key={c.uid}>
                <Link href={`${place.ui}/registries/collections/${c.uid}`}>{c.key}</Link>
              </li>
            ))}
          </ul>
        );
      }}
    </Show>
  );
}
