/** Small parts every view uses: loading and error notes, a data hook, a copy button. */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      {what}…
    </p>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof ApiError ? error.hint : undefined;
  return (
    <div class="error" role="alert">
      <p>{message}</p>
      {hint && <p class="muted">{hint}</p>}
    </div>
  );
}

export type Loaded<T> =
  | { state: "loading" }
  | { state: "done"; value: T }
  | { state: "error"; error: unknown };

/**
 * The result of `load`, run again when `deps` change; `reload` runs it again (showing the
 * current value meanwhile). A value loaded for other `deps` is never returned, not even for the
 * one render between a change and its effect.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const key = JSON.stringify(deps);
  const [result, setResult] = useState<{ key: string; loaded: Loaded<T> }>({
    key,
    loaded: { state: "loading" },
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setResult((r) =>
      r.key === key && r.loaded.state === "done" ? r : { key, loaded: { state: "loading" } },
    );
    load().then(
      (value) => live && setResult({ key, loaded: { state: "done", value } }),
      (error) => live && setResult({ key, loaded: { state: "error", error } }),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  return [result.key === key ? result.loaded : { state: "loading" }, () => setTick((t) => t + 1)];
}

/** Shows loading and errors; renders `children` with the value. */
export function Show<T>(props: {
  loaded: Loaded<T>;
  children: (value: T) => preact.ComponentChildren;
}) {
  if (props.loaded.state === "loading") return <Loading />;
  if (props.loaded.state === "error") return <ErrorNote error={props.loaded.error} />;
  return <>{props.children(props.loaded.value)}</>;
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="small"
      aria-label={label}
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => {});
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? "copied" : "copy"}
    </button>
  );
}
