// The one error base of the project. Every error Sentinel throws on purpose is a SentinelError:
// a stable `code` (what callers branch on, what tests assert on, a metric label), typed
// metadata (structured context for logs and APIs; never keys or raw network bytes), and the
// cause it wraps, so a dependency's error is wrapped once, at the boundary, and not lost.
// Areas subclass it to narrow the code and the metadata; nothing matches errors by `name`.

export class SentinelError<Code extends string = string, Meta extends object = Record<string, unknown>> extends Error {
  override name = "SentinelError";
  readonly code: Code;
  readonly meta: Readonly<Meta>;

  constructor(code: Code, message: string, meta?: Meta, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.meta = Object.freeze({ ...(meta ?? ({} as Meta)) });
  }

  /** The error as logs and API answers carry it: code, message and metadata, no stack. */
  toJSON(): { code: Code; message: string; meta: Readonly<Meta> } {
    return { code: this.code, message: this.message, meta: this.meta };
  }
}

/** Whether `error` is a SentinelError with one of `codes` (any code when none is given). */
export function hasCode<Code extends string>(error: unknown, ...codes: Code[]): error is SentinelError<Code> {
  return error instanceof SentinelError && (codes.length === 0 || codes.includes(error.code as Code));
}

/** A short, single-line description of anything thrown, for logs and status records. */
export function describeError(error: unknown): string {
  if (error instanceof SentinelError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
