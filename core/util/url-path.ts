/**
 * A relative path (a folder's file, a schema name) inside a URL path: each segment
 * percent-encoded, its `/` kept as `/`. An encoded `/` (%2F) is what the hub refuses as
 * ambiguous (functions/api/paths.ts), so routes take such values as several segments.
 */
export function encodePathSegments(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
