/**
 * The shell: which server this is (an instance's or the hub), the sign-in, the header and
 * navigation, and which view a path shows.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, onSignedOut, type Role, request, sendJson } from "./api";
import { Link, navigate, useLocation } from "./nav";
import { hubInstancePath, type Place, PlaceContext } from "./place";
import { ArtifactPage } from "./views/artifact";
import { ArtifactsView } from "./views/artifacts";
import { ErrorNote, Loading } from "./views/common";
import { InstancesView } from "./views/instances";
import { ModuleRecordsView, ModuleRecordView } from "./views/module-records";
import { ModulesView } from "./views/modules";
import { Overview } from "./views/overview";
import { RecordView, RegistryView, registryInfo } from "./views/registries";
import { SchemasView, SchemaView } from "./views/schemas";

type Session =
  | { state: "loading" }
  | { state: "signed-out"; hub: boolean; error?: string }
  | { state: "hub"; account: string }
  | { state: "instance"; place: Place }
  | { state: "error"; error: unknown };

export function App() {
  const { path } = useLocation();
  const [session, setSession] = useState<Session>({ state: "loading" });
  const hubInstance = hubInstancePath(path);
  const scope = hubInstance?.api ?? "";

  const load = async () => {
    try {
      await redeemLink();
      const me = await getJson<{ service: "hub" | "instance"; signed_in: boolean }>("/session");
      const hub = me.service === "hub";
      if (!me.signed_in) {
        setSession({ state: "signed-out", hub });
      } else if (hub && !hubInstance) {
        const account = await getJson<{ handle: string }>("/account");
        setSession({ state: "hub", account: account.handle });
      } else if (hub && hubInstance) {
        const info = await getJson<{ role: Role }>(hubInstance.api);
        setSession({
          state: "instance",
          place: {
            api: hubInstance.api,
            ui: hubInstance.ui,
            role: info.role,
            slug: hubInstance.slug,
            hub,
          },
        });
      } else {
        const info = await getJson<{ instance: string; role: Role }>("/instance");
        setSession({
          state: "instance",
          place: { api: "", ui: "/ui", role: info.role ?? "owner", slug: info.instance, hub },
        });
      }
    } catch (error) {
      setSession({ state: "error", error });
    }
  };
  // the instance (or hub page) changes with the path's scope
  useEffect(() => {
    setSession({ state: "loading" });
    void load();
  }, [scope]);
  useEffect(
    () =>
      onSignedOut(() =>
        setSession((s) => ({
          state: "signed-out",
          hub: s.state === "hub" || (s.state === "instance" && s.place.hub),
        })),
      ),
    [],
  );

  if (session.state === "loading") return <Loading />;
  if (session.state === "error")
    return (
      <main class="page">
        <ErrorNote error={session.error} />
      </main>
    );
  if (session.state === "signed-out") return <SignIn hub={session.hub} onDone={load} />;
  if (session.state === "hub") {
    return (
      <Shell title="LaminDB hub" home="/ui/" who={session.account}>
        <InstancesView />
      </Shell>
    );
  }
  const { place } = session;
  const rest = hubInstance ? hubInstance.rest : path.replace(/^\/ui/, "") || "/";
  return (
    <PlaceContext.Provider value={place}>
      <Shell title={place.slug} home={`${place.ui}/`} who={place.role} place={place}>
        <Route rest={rest} />
      </Shell>
    </PlaceContext.Provider>
  );
}

/** A one-time sign-in link (`?code=` from lamin serve): exchanged for the cookie, then removed. */
async function redeemLink(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return;
  params.delete("code");
  const rest = params.toString();
  navigate(`${location.pathname}${rest ? `?${rest}` : ""}`, { replace: true });
  await sendJson("POST", "/session", { code }).catch(() => {});
}

function Route({ rest }: { rest: string }) {
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  const [section, id] = parts;
  if (!section) return <Overview />;
  if (section === "artifacts" && id) return <ArtifactPage uid={id} />;
  if (section === "artifacts") return <ArtifactsView trash={false} />;
  if (section === "trash") return <ArtifactsView trash={true} />;
  if (section === "schemas" && id) return <SchemaView ref_={parts.slice(1).join("/")} />;
  if (section === "schemas") return <SchemasView />;
  if (section === "modules" && id && parts[2])
    return <ModuleRecordView registry={id} uid={parts[2]} />;
  if (section === "modules" && id) return <ModuleRecordsView registry={id} />;
  if (section === "modules") return <ModulesView />;
  if (section === "registries" && id && parts[2]) return <RecordView plural={id} uid={parts[2]} />;
  if (section === "registries" && id) return <RegistryView plural={id} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>This page does not exist.</p>
    </section>
  );
}

/**
 * The sidebar: artifacts first, then every registry the instance describes (GET /registries, so
 * a registry declared on the server appears here without a change to the UI), then the views of
 * their own. Until the description arrives, the registries the UI knows are shown.
 */
const KNOWN = ["collections", "transforms", "runs", "features", "ulabels", "records", "projects"];
const LABELS: Record<string, string> = { ulabels: "Labels" };
const titleOf = (plural: string) =>
  LABELS[plural] ?? `${plural.charAt(0).toUpperCase()}${plural.slice(1)}`;
function sections(described: string[] | undefined): [string, string][] {
  const plurals = (described ?? KNOWN).filter((p) => p !== "artifacts");
  return [
    ["artifacts", "Artifacts"],
    ...plurals.map((p): [string, string] => [`registries/${p}`, titleOf(p)]),
    ["schemas", "Schemas"],
    ["modules", "Modules"],
    ["trash", "Trash"],
  ];
}

function Shell(props: {
  title: string;
  home: string;
  who: string;
  place?: Place;
  children: ComponentChildren;
}) {
  const { path } = useLocation();
  const [described, setDescribed] = useState<string[]>();
  const api = props.place?.api;
  useEffect(() => {
    if (!api) return;
    registryInfo(api)
      .then((infos) => setDescribed(infos.map((i) => i.plural)))
      .catch(() => {}); // the known registries stay; each view reports its own errors
  }, [api]);
  const signOut = async () => {
    await request("/session", { method: "DELETE" }).catch(() => {});
    location.assign(props.place?.hub ? "/ui/" : props.home);
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={props.home} class="brand">
          <span aria-hidden="true">▙</span> {props.title}
        </Link>
        {props.place?.hub && (
          <Link href="/ui/" class="muted">
            all instances
          </Link>
        )}
        <span class="spacer" />
        <span class="who" title="your role">
          {props.who}
        </span>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <div class="body">
        {props.place && (
          <nav class="side" aria-label="Registries">
            <ul>
              {sections(described).map(([href, label]) => {
                const full = `${props.place?.ui}/${href}`;
                const current = path === full || path.startsWith(`${full}/`);
                return (
                  <li key={href}>
                    <Link href={full} aria-current={current ? "page" : undefined}>
                      {label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
        )}
        <main id="main" class="page" tabIndex={-1}>
          {props.children}
        </main>
      </div>
    </>
  );
}

function SignIn({ hub, onDone }: { hub: boolean; onDone: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const what = hub ? "API key" : "Access token";
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await sendJson("POST", "/session", { token });
      setToken("");
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>Sign in to LaminDB</h1>
      <form onSubmit={submit}>
        <label for="token">{what}</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="muted">
          {hub
            ? "A key of your account (lamin hub create-account prints the first one)."
            : "The token lamin serve printed (or open the one-time link it printed)."}
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
