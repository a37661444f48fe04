/** The hub's start page: the instances the account can reach, with its role on each. */
import { getJson } from "../api";
import { when } from "../format";
import { Link } from "../nav";
import { Show, useLoad } from "./common";

interface HubInstance {
  owner: string;
  name: string;
  storage_root: string;
  created_at: string;
}

export function InstancesView() {
  const [loaded] = useLoad(async () => {
    const list = await getJson<HubInstance[]>("/instances");
    // the role is per instance (one small request each; an account reaches few instances)
    return Promise.all(
      list.map(async (i) => ({
        ...i,
        role: (
          await getJson<{ role: string }>(
            `/instances/${encodeURIComponent(i.owner)}/${encodeURIComponent(i.name)}`,
          )
        ).role,
      })),
    );
  }, []);
  return (
    <section>
      <h1>Instances</h1>
      <Show loaded={loaded}>
        {(items) =>
          items.length === 0 ? (
            <p class="muted">
              You can reach no instance yet: create one (lamin hub create-instance) or ask to be
              added.
            </p>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Your role</th>
                  <th scope="col">Storage</th>
                  <th scope="col">Created at</th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={`${i.owner}/${i.name}`}>
                    <td>
                      <Link
                        href={`/instances/${encodeURIComponent(i.owner)}/${encodeURIComponent(i.name)}/ui/`}
                      >
                        {i.owner}/{i.name}
                      </Link>
                    </td>
                    <td>{i.role}</td>
                    <td>
                      <code>{i.storage_root}</code>
                    </td>
                    <td>{when(i.created_at)}</td>
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
