/**
 * The artifact table: filters in a sidebar form (kept in the page's URL, so a view can be shared
 * and the back button works), keyset pages of 50 (never a count of every row: at 100,000
 * artifacts that would cost more than the page), and the trash as the same table.
 */
import { useState } from "preact/hooks";
import { type Artifact, canWrite, getJson, type Page, type Query } from "../api";
import { bytes, when } from "../format";
import { Link, navigate, useLocation } from "../nav";
import { usePlace } from "../place";
import { Show, useLoad } from "./common";
import { UploadZone } from "./upload";

const PAGE_SIZE = 50;

/** Filter fields of the sidebar: the page's query parameter and the API's lookup. */
const FILTERS: {
  name: string;
  label: string;
  lookup: string;
  type?: string;
  placeholder?: string;
}[] = [
  { name: "suffix", label: "Suffix", lookup: "suffix", placeholder: ".csv" },
  { name: "kind", label: "Kind", lookup: "kind", placeholder: "dataset" },
  { name: "prefix", label: "Key prefix", lookup: "key__startswith", placeholder: "raw/" },
  { name: "from", label: "Created from", lookup: "created_at__gte", type: "date" },
  { name: "to", label: "Created until", lookup: "created_at__lt", type: "date" },
  { name: "label", label: "Label", lookup: "ulabels__name", placeholder: "T cell" },
  { name: "project", label: "Project", lookup: "projects__name", placeholder: "atlas" },
];

/** Columns; those with an ordering of the API sort the whole table (keyset pages follow it). */
const COLUMNS: { field: string; label: string; sortable: boolean }[] = [
  { field: "key", label: "Key", sortable: true },
  { field: "description", label: "Description", sortable: true },
  { field: "suffix", label: "Suffix", sortable: true },
  { field: "size", label: "Size", sortable: true },
  { field: "version", label: "Version", sortable: false },
  { field: "created_by", label: "Created by", sortable: false },
  { field: "created_at", label: "Created at", sortable: true },
];
const SORTABLE = new Set(COLUMNS.filter((c) => c.sortable).map((c) => c.field));

/** The ordering of the page's `sort` parameter (`size`, `-size`, ...); newest first by default. */
function ordering(params: URLSearchParams): { field: string; desc: boolean } {
  const sort = params.get("sort") ?? "-created_at";
  const field = sort.replace(/^-/, "");
  return SORTABLE.has(field)
    ? { field, desc: sort.startsWith("-") }
    : { field: "created_at", desc: true };
}

/** The API query of the page's parameters. */
function apiQuery(params: URLSearchParams, trash: boolean): Query {
  const size = Number(params.get("size"));
  const query: Query = {
    // `size`: a page size other than 50 (1 to 200), for a shared link
    limit: Number.isInteger(size) && size >= 1 && size <= 200 ? size : PAGE_SIZE,
    order_by: `${ordering(params).desc ? "-" : ""}${ordering(params).field}`,
  };
  for (const f of FILTERS) {
    let v = params.get(f.name)?.trim();
    if (!v) continue;
    if (f.type === "date" && f.name === "to")
      v = new Date(Date.parse(v) + 86_400_000).toISOString().slice(0, 10);
    query[f.lookup] = v;
  }
  const q = params.get("q")?.trim();
  if (q) query.key__icontains = q;
  // feature values: "name=value" (or name>value, name<value)
  const feature = /^\s*([\w.-]+)\s*(=|>=|<=|>|<)\s*(.+?)\s*$/.exec(params.get("feature") ?? "");
  if (feature) {
    const op = { "=": "", ">": "__gt", "<": "__lt", ">=": "__gte", "<=": "__lte" }[
      feature[2] as string
    ];
    query[`feature.${feature[1]}${op}`] = feature[3];
  }
  if (trash) query.trash = true;
  const cursor = params.get("cursor");
  if (cursor) query.cursor = cursor;
  return query;
}

export function ArtifactsView({ trash }: { trash: boolean }) {
  const place = usePlace();
  const { path, query: params } = useLocation();
  const key = params.toString();
  const [loaded, reload] = useLoad(
    () => getJson<Page<Artifact>>(`${place.api}/artifacts`, apiQuery(params, trash)),
    [place.api, key, trash],
  );
  // cursors of the pages before this one, for "previous"
  const [back, setBack] = useState<string[]>([]);

  const go = (changes: Record<string, string | undefined>, keepPages = false) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!keepPages) {
      next.delete("cursor");
      setBack([]);
    }
    const s = next.toString();
    navigate(`${path}${s ? `?${s}` : ""}`);
  };

  const applyFilters = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const changes: Record<string, string | undefined> = {};
    for (const name of ["q", "feature", ...FILTERS.map((f) => f.name)]) {
      changes[name] = String(form.get(name) ?? "").trim() || undefined;
    }
    go(changes);
  };

  const order = ordering(params);
  // a new ordering starts at its first page, ascending (a second click: descending)
  const sortBy = (field: string) =>
    go({ sort: order.field === field && !order.desc ? `-${field}` : field });
  const label = COLUMNS.find((c) => c.field === order.field)?.label.toLowerCase();

  return (
    <section class="with-filters">
      {/* keyed by the query: its fields show the filters of the page's URL after each navigation */}
      <form key={key} class="filters" onSubmit={applyFilters} aria-label="Filter artifacts">
        <label for="f-q">Search keys</label>
        <input
          id="f-q"
          name="q"
          type="search"
          defaultValue={params.get("q") ?? ""}
          placeholder="counts"
        />
        {FILTERS.map((f) => (
          <div key={f.name}>
            <label for={`f-${f.name}`}>{f.label}</label>
            <input
              id={`f-${f.name}`}
              name={f.name}
              type={f.type ?? "text"}
              defaultValue={params.get(f.name) ?? ""}
              placeholder={f.placeholder}
            />
          </div>
        ))}
        <label for="f-feature">Feature value</label>
        <input
          id="f-feature"
          name="feature"
          defaultValue={params.get("feature") ?? ""}
          placeholder="temperature>30"
          aria-describedby="f-feature-help"
        />
        <p id="f-feature-help" class="muted small-text">
          name=value, or with &gt;, &lt;, &gt;=, &lt;=
        </p>
        <div class="row">
          <button type="submit">Apply</button>
          <button type="button" class="secondary" onClick={() => navigate(path)}>
            Clear
          </button>
        </div>
      </form>
      <div class="grow">
        <h1>{trash ? "Trash" : "Artifacts"}</h1>
        {!trash && canWrite(place.role) && <UploadZone onUploaded={reload} />}
        <Show loaded={loaded}>
          {(page) => (
            <>
              <table class="grid" aria-describedby="table-note">
                <caption id="table-note" class="muted">
                  {page.items.length === 0
                    ? "No artifacts match."
                    : `${page.items.length} artifacts on this page, by ${label}, ${order.desc ? "descending" : "ascending"}.`}
                </caption>
                <thead>
                  <tr>
                    {COLUMNS.map((c) => {
                      const dir =
                        order.field === c.field
                          ? order.desc
                            ? "descending"
                            : "ascending"
                          : undefined;
                      return (
                        <th
                          key={c.field}
                          scope="col"
                          aria-sort={c.sortable ? (dir ?? "none") : undefined}
                        >
                          {c.sortable ? (
                            <button type="button" class="sort" onClick={() => sortBy(c.field)}>
                              {c.label}
                              <span aria-hidden="true">
                                {dir === "ascending" ? " ▲" : dir === "descending" ? " ▼" : ""}
                              </span>
                            </button>
                          ) : (
                            c.label
                          )}
                        </th>
                      );
                    })}
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((a) => (
                    <tr key={a.uid}>
                      <td>
                        <Link href={`${place.ui}/artifacts/${a.uid}`}>{a.key ?? a.uid}</Link>
                      </td>
                      <td>{a.description}</td>
                      <td>{a.suffix}</td>
                      <td class="num">{bytes(a.size)}</td>
                      <td>{a.version}</td>
                      <td>{a.created_by}</td>
                      <td>
                        <time dateTime={a.created_at}>{when(a.created_at)}</time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <nav class="pager" aria-label="Pages">
                <button
                  type="button"
                  disabled={back.length === 0}
                  onClick={() => {
                    const prev = back.slice(0, -1);
                    setBack(prev);
                    go({ cursor: back.at(-1) || undefined }, true);
                  }}
                >
                  Previous page
                </button>
                <span class="muted">page {back.length + 1}</span>
                <button
                  type="button"
                  disabled={!page.next_cursor}
                  onClick={() => {
                    setBack([...back, params.get("cursor") ?? ""]);
                    go({ cursor: page.next_cursor }, true);
                  }}
                >
                  Next page
                </button>
              </nav>
            </>
          )}
        </Show>
      </div>
    </section>
  );
}
