/**
 * A value made once per Lambda container and reused by warm invocations; a failed making does
 * not stick (the next invocation tries again, e.g. after the database came back).
 */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      pending = make();
      pending.catch(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}
