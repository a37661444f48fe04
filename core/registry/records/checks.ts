/** Checks of create inputs, with messages that say what to send instead. */
import { ValidationError } from "../../errors.js";
import { recordKeyProblem } from "../artifacts/keys.js";

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;
}

/** An optional string field: null when absent, else checked for type and length. */
export function text(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    throw new ValidationError(
      `${field} must be a string, got ${typeName(value)}`,
      `give ${field} as text`,
    );
  }
  if (value.length > max) {
    throw new ValidationError(`${field} is longer than ${max} characters`, "shorten it");
  }
  return value;
}

export function requiredName(
  value: unknown,
  registry: string,
  max: number,
  example: string,
): string {
  const name = text(value, "name", max);
  if (name === null || name.trim() === "") {
    throw new ValidationError(`a ${registry} needs a name`, `e.g. "name": "${example}"`);
  }
  return name;
}

/** A key as LaminDB's `check_key` wants it (keys.ts), with a hint of what to send instead. */
export function checkKey(value: unknown, max: number, registry: string): string {
  const key = text(value, "key", max);
  const example = registry === "transform" ? "pipelines/rnaseq.py" : "datasets/batch-1";
  if (key === null || key === "") {
    throw new ValidationError(`a ${registry} needs a key`, `e.g. "key": "${example}"`);
  }
  const problem = recordKeyProblem(key);
  if (problem) {
    throw new ValidationError(
      `invalid key '${key.slice(0, 200)}': it ${problem}`,
      `use a relative path like '${example}'`,
    );
  }
  return key;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** What a date input looks like (LaminDB's DateField): YYYY-MM-DD. */
export const DATE_PATTERN = { regex: /^\d{4}-\d{2}-\d{2}$/, hint: "a date is YYYY-MM-DD" };

/** Refuse a date of the right shape that names no day of the calendar (2023-02-30). */
export function checkCalendarDate(date: string | null, field = "date"): void {
  if (date === null) return;
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
    throw new ValidationError(
      `invalid ${field} ${JSON.stringify(date)}`,
      "give a real date, e.g. 2023-11-21",
    );
  }
}
