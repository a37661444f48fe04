/**
 * A registry of a module of its own package (`mylab.Sample`, `pertdb.Compound`): its records as
 * a table, newest first, filtered by name, and one record's fields. Read through the generic
 * route GET /modules/records/{registry} (?name=, ?uid=), which checks the registry against its
 * declaration: the UI needs no change for a new module or field.
 */
import { Fragment } from "preact";
import { getJson } from "../api";
import { text } from "../format";
import { Link, navigate, useLocation } from "../nav";
import { usePlace } from "../place";
import { Show, useLoad } from "./common";

type ModuleRecord = Record<string, unknown> & { uid: string };

/** Columns the table leaves to the record's page (LaminDB's bookkeeping). */
const HIDDEN = new Set([
  "uid",
  "id",
  "branch_id",
  "space_id",
  "created_on_id",
  "_aux",
  "is_locked",
]);

const recordsPath = (api: string, registry: string) =>
  `${api}/modules/records/${encodeURIComponent(registry)}`;

export function ModuleRecordsView({ registry }: { registry: string }) {
  const place = usePlace();
  const { path, query } = useLocation();
  const name = query.get("name") ?? "";
  const [loaded] = useLoad(
    () =>
      getJson<ModuleRecord[]>(recordsPath(place.api, registry), {
        limit: 200,
        ...(name ? { name } : {}),
      }),
    [place.api, registry, name],
  );
  return (
    <section>
      <h1>{registry}</h1>
      <p>
        <Link href={`${place.ui}/modules`}>All modules</Link>
      </p>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const v = String(
            new FormData(e.currentTarget as HTMLFormElement).get("name") ?? "",
          ).trim();
          navigate(v ? `${path}?name=${encodeURIComponent(v)}` : path);
        }}
      >
        <label for="module-record-name">Name</label>
        <input id="module-record-name" name="name" type="search" defaultValue={name} />
        <button type="submit">Filter</button>
      </form>
      <Show loaded={loaded}>
        {(records) => {
          const columns = [
            ...new Set(records.flatMap((r) => Object.keys(r).filter((k) => !HIDDEN.has(k)))),
          ];
          return (
            <table class="grid">
              <caption class="muted">
                {records.length === 0
                  ? "Nothing here."
                  : `${records.length} records, newest first.`}
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
                {records.map((r) => (
                  <tr key={r.uid}>
                    <td>
                      <Link
                        href={`${place.ui}/modules/${encodeURIComponent(registry)}/${encodeURIComponent(r.uid)}`}
                      >
                        {r.uid}
                      </Link>
                    </td>
                    {columns.map((c) => (
                      <td key={c}>{text(r[c])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
    </section>
  );
}

export function ModuleRecordView({ registry, uid }: { registry: string; uid: string }) {
  const place = usePlace();
  const [loaded] = useLoad(
    () => getJson<ModuleRecord[]>(recordsPath(place.api, registry), { uid, limit: 1 }),
    [place.api, registry, uid],
  );
  return (
    <Show loaded={loaded}>
      {(records) => {
        const record = records[0];
        return (
          <section>
            <h1>{record ? text(record.name ?? record.uid) : "Not found"}</h1>
            <p>
              <Link href={`${place.ui}/modules/${encodeURIComponent(registry)}`}>{registry}</Link>
            </p>
            {record ? (
              <dl class="facts">
                {Object.entries(record).map(([k, v]) => (
                  <Fragment key={k}>
                    <dt>{k}</dt>
                    <dd>{text(v)}</dd>
                  </Fragment>
                ))}
              </dl>
            ) : (
              <p class="muted">
                No {registry} record {uid}.
              </p>
            )}
          </section>
        );
      }}
    </Show>
  );
}
