// The machinery of config validation: readers that check one value at a path and record every
// problem in Issues (never throwing), so a config with eight mistakes reports eight.
import type { ConfigIssue } from "./errors.ts";

export class Issues {
  readonly list: ConfigIssue[] = [];
  add(path: string, message: string): undefined {
    this.list.push({ path, message });
    return undefined;
  }
}

/** A config object as parsed, before its fields are read and checked. */
export type UncheckedObject = Record<string, unknown>;
/** Reads one value at `path`: its typed form, or undefined after recording an issue. */
export type Reader<T> = (value: unknown, path: string, issues: Issues) => T | undefined;

export const readBoolean: Reader<boolean> = (value, path, issues) => {
  if (typeof value !== "boolean") return issues.add(path, `must be true or false (no quotes); ${got(value)}`);
  return value;
};

export function readString(value: unknown, path: string, issues: Issues, fix = "must be a string"): string | undefined {
  if (typeof value !== "string") return issues.add(path, `${fix}; ${got(value)}`);
  return value;
}

export function readArray<T>(value: unknown, path: string, issues: Issues, item: Reader<T>, bounds: { max: number }): T[] | undefined {
  if (!Array.isArray(value)) return issues.add(path, `must be an array [...]; ${got(value)}`);
  if (value.length > bounds.max) return issues.add(path, `must have at most ${bounds.max} entries, has ${value.length}`);
  const items: T[] = [];
  let ok = true;
  value.forEach((entry: unknown, index) => {
    const parsed = item(entry, `${path}[${index}]`, issues);
    if (parsed === undefined) ok = false;
    else items.push(parsed);
  });
  return ok ? items : undefined;
}

/**
 * A JSON object whose keys must all be `known`: each unknown key is an issue, with a
 * suggestion. The object is still returned so its known fields get checked too.
 */
export function readObject(value: unknown, path: string, issues: Issues, known: readonly string[]): UncheckedObject | undefined {
  if (!isObject(value)) return issues.add(path, `must be an object {...}; ${got(value)}`);
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const hint = suggestion === undefined ? `known fields: ${known.join(", ")}` : `did you mean "${suggestion}"?`;
    issues.add(at(path, key), `unknown field; ${hint}`);
  }
  return value;
}

export function required<T>(obj: UncheckedObject, key: string, path: string, issues: Issues, read: Reader<T>, fix: string): T | undefined {
  const value = obj[key];
  if (value === undefined) return issues.add(at(path, key), `is required; ${fix}`);
  return read(value, at(path, key), issues);
}

/** Missing → the default; present (even null) → read and checked. */
export function optional<T, D>(obj: UncheckedObject, key: string, path: string, issues: Issues, read: Reader<T>, fallback: D): T | D | undefined {
  const value = obj[key];
  if (value === undefined) return fallback;
  return read(value, at(path, key), issues);
}

export function isObject(value: unknown): value is UncheckedObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function at(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function got(value: unknown, options: { hideValue?: boolean } = {}): string {
  if (value === null) return "got null";
  if (Array.isArray(value)) return "got an array";
  if (typeof value === "object") return "got an object";
  if (options.hideValue) return `got a ${typeof value}`;
  if (typeof value === "string") return `got "${truncate(value)}"`;
  return `got ${typeof value} ${String(value)}`;
}

export function truncate(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The known key nearest to a typo (case-insensitive, edit distance ≤ 2). */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
