// A test hook, not a feature: named points in admission, signing, aggregation and relay where a
// crash campaign (scripts/adversarial.ts) makes the node SIGKILL itself, so that a crash lands
// exactly between two writes instead of wherever a sleep happened to end. Armed only by the
// environment variable SENTINEL_FAULT_POINTS, read once when this module loads, never by a
// config file: `signing.afterRecord:2` kills the process the 2nd time that point is reached;
// several, comma-separated, each count on their own. Unset, faultPoint() is one comparison.
import { SentinelError } from "../errors.ts";

export const FAULT_POINTS = [
  // Intake: admission decided, candidate not stored yet / stored, not yet handed to verification.
  "admission.admitted",
  "admission.stored",
  // Signing record: before the fsync'd write / after it, before the signature exists / signed, not sent.
  "signing.beforeRecord",
  "signing.afterRecord",
  "signing.beforeSend",
  // Attestation store: formed (or learned), not written / written with its pending relay.
  "aggregation.formed",
  "aggregation.stored",
  // Relay: transaction signed, not broadcast / broadcast, no receipt yet / relayer's result in, not written.
  "relay.beforeSend",
  "relay.afterSend",
  "relay.afterReceipt",
] as const;

export type FaultPointName = (typeof FAULT_POINTS)[number];

export const FAULT_POINTS_ENV = "SENTINEL_FAULT_POINTS";

export class FaultPointsError extends SentinelError<"FAULT_POINTS_INVALID", { spec: string }> {
  override name = "FaultPointsError";
  constructor(spec: string, reason: string) {
    super("FAULT_POINTS_INVALID", `${FAULT_POINTS_ENV}=${JSON.stringify(spec)}: ${reason}`, { spec });
  }
}

/** `name:occurrence` pairs, comma-separated; the occurrence (1-based) defaults to 1. */
export function parseFaultPoints(spec: string | undefined): Map<FaultPointName, number> | undefined {
  if (spec === undefined || spec.trim() === "") return undefined;
  const armed = new Map<FaultPointName, number>();
  for (const part of spec.split(",")) {
    const [name, occurrence = "1", extra] = part.trim().split(":");
    if (extra !== undefined) throw new FaultPointsError(spec, `"${part}" is not name:occurrence`);
    if (!(FAULT_POINTS as readonly string[]).includes(name!)) throw new FaultPointsError(spec, `unknown point "${name}" (known: ${FAULT_POINTS.join(", ")})`);
    if (!/^[1-9]\d{0,5}$/.test(occurrence)) throw new FaultPointsError(spec, `occurrence "${occurrence}" of ${name} is not a whole number from 1`);
    armed.set(name as FaultPointName, Number(occurrence));
  }
  return armed;
}

/** Counts reaches of armed points; `kill` ends the process (injected for tests). */
export class FaultPoints {
  readonly #armed: Map<FaultPointName, number> | undefined;
  readonly #reached = new Map<FaultPointName, number>();
  readonly #kill: (name: FaultPointName, occurrence: number) => void;

  constructor(armed: Map<FaultPointName, number> | undefined, kill: (name: FaultPointName, occurrence: number) => void) {
    this.#armed = armed;
    this.#kill = kill;
  }

  get armed(): boolean {
    return this.#armed !== undefined;
  }

  reach(name: FaultPointName): void {
    if (this.#armed === undefined) return;
    const target = this.#armed.get(name);
    if (target === undefined) return;
    const count = (this.#reached.get(name) ?? 0) + 1;
    this.#reached.set(name, count);
    if (count === target) this.#kill(name, count);
  }
}

const processPoints = new FaultPoints(parseFaultPoints(process.env[FAULT_POINTS_ENV]), (name, occurrence) => {
  // One line on stderr (synchronous for a pipe or file), so the campaign's log says where it died.
  process.stderr.write(`fault point ${name} reached (${occurrence}): SIGKILL\n`);
  process.kill(process.pid, "SIGKILL");
});

/** A crash site for the crash campaign; does nothing unless SENTINEL_FAULT_POINTS arms it. */
export function faultPoint(name: FaultPointName): void {
  processPoints.reach(name);
}
