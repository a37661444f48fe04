/** Validation of what users type into the hub: handles, instance names, roles. */
import { ValidationError } from "../errors.js";
import { validateInstanceName } from "../settings.js";
import type { AccountKind, CollaboratorRole, MemberRole } from "./schema.js";

const HANDLE = /^[a-z0-9][a-z0-9-]{1,29}$/;
/** Words that read as hub routes or system roles; an account named so would mislead. */
const RESERVED_HANDLES = new Set([
  "admin",
  "api",
  "hub",
  "instances",
  "keys",
  "lamin",
  "login",
  "me",
  "null",
  "root",
  "undefined",
]);
export const INSTANCE_NAME_MAX = 30;

export function validateHandle(handle: string): string {
  if (typeof handle !== "string" || !HANDLE.test(handle) || handle.endsWith("-")) {
    throw new ValidationError(
      `invalid handle '${String(handle)}'`,
      "use 2-30 lower-case letters, digits or '-', starting with a letter or digit and not ending with '-'",
    );
  }
  if (RESERVED_HANDLES.has(handle)) {
    throw new ValidationError(`the handle '${handle}' is reserved`, "choose another handle");
  }
  return handle;
}

/** LaminDB's instance-name rule, narrowed to the hub's column width. */
export function validateHubInstanceName(name: string): string {
  validateInstanceName(name);
  if (name.length > INSTANCE_NAME_MAX) {
    throw new ValidationError(
      `instance name '${name}' is longer than ${INSTANCE_NAME_MAX} characters`,
      `use at most ${INSTANCE_NAME_MAX} characters`,
    );
  }
  return name;
}

function oneOf<T extends string>(what: string, allowed: readonly T[], value: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(`invalid ${what} '${value}'`, `use one of: ${allowed.join(", ")}`);
  }
  return value as T;
}

export const validateKind = (v: string): AccountKind =>
  oneOf<AccountKind>("account kind", ["user", "org"], v);
export const validateMemberRole = (v: string): MemberRole =>
  oneOf<MemberRole>("member role", ["member", "admin"], v);
export const validateCollaboratorRole = (v: string): CollaboratorRole =>
  oneOf<CollaboratorRole>("role", ["read", "write", "admin"], v);
