/**
 * Typed errors of the domain. Every layer above (CLI, HTTP) maps these to its own shape:
 * a one-line message plus a hint in the CLI, `application/problem+json` over HTTP.
 */
export type ErrorKind =
  | "validation"
  | "not-found"
  | "conflict"
  | "permission"
  | "unauthenticated"
  | "too-large"
  | "unprocessable"
  | "unavailable"
  | "insufficient-storage"
  | "integrity";

export class LaminError extends Error {
  readonly kind: ErrorKind;
  /** What the user can do about it, one sentence. */
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
    this.hint = hint;
  }
}

/** The input is wrong: bad path, bad key, bad filter, bad option. */
export class ValidationError extends LaminError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("validation", message, hint, options);
  }
}

export class NotFoundError extends LaminError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("not-found", message, hint, options);
  }
}

/** The request clashes with existing state (instance exists, storage managed elsewhere). */
export class ConflictError extends LaminError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("conflict", message, hint, options);
  }
}

/** A database, storage or lock could not be reached in time. */
export class UnavailableError extends LaminError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("unavailable", message, hint, options);
  }
}

/** A disk (or quota) is full: the database or the storage cannot write. */
export class InsufficientStorageError extends LaminError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("insufficient-storage", message, hint, options);
  }
}

/** Stored bytes do not match what the registry says about them. */
export class IntegrityError extends LaminError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super("integrity", message, hint, options);
  }
}
