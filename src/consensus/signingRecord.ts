// "I signed verdict D for candidate C", written durably before any signature leaves the
// process. Whatever happens afterwards (crash, restart, a different verdict computed after a
// code change), this node never releases a signature over a different verdict for C.
import type { Hex } from "viem";
import type { Database, Sublevel } from "../db/database.ts";
import { SentinelError } from "../errors.ts";
import { faultPoint } from "../util/faultPoints.ts";

interface SignedEntry {
  [key: string]: string;
  digest: Hex;
  signedAt: string;
}

/** One line of the record, as the interchange (`signingInterchange.ts`) carries it. */
export interface SignedVerdictEntry {
  candidateId: Hex;
  digest: Hex;
  signedAt: string;
}

/** A rotation this key voted for: one digest per new set index. */
export interface SignedRotationEntry {
  setIndex: number;
  digest: Hex;
  signedAt: string;
}

export interface ConflictingVerdictMeta {
  candidateId: Hex;
  signedDigest: Hex;
  refusedDigest: Hex;
}

export class ConflictingVerdictError extends SentinelError<"CONFLICTING_VERDICT", ConflictingVerdictMeta> {
  override name = "ConflictingVerdictError";
  constructor(candidateId: Hex, signedDigest: Hex, refusedDigest: Hex) {
    super(
      "CONFLICTING_VERDICT",
      `refusing to sign verdict ${refusedDigest} for candidate ${candidateId}: already signed ${signedDigest}`,
      { candidateId, signedDigest, refusedDigest },
    );
  }

  get candidateId(): Hex {
    return this.meta.candidateId;
  }

  get signedDigest(): Hex {
    return this.meta.signedDigest;
  }

  get refusedDigest(): Hex {
    return this.meta.refusedDigest;
  }
}

/** Not a 0x candidate id, so rotations share the sublevel (and its fsync'd batch) without colliding. */
const ROTATION_PREFIX = "rotation:";

function rotationKey(setIndex: number): Hex {
  return `${ROTATION_PREFIX}${setIndex.toString().padStart(10, "0")}` as Hex;
}

function keyed(entries: SignedVerdictEntry[], rotations: SignedRotationEntry[]): { key: Hex; digest: Hex; signedAt: string }[] {
  return [
    ...entries.map((e) => ({ key: e.candidateId, digest: e.digest, signedAt: e.signedAt })),
    ...rotations.map((r) => ({ key: rotationKey(r.setIndex), digest: r.digest, signedAt: r.signedAt })),
  ];
}

export class SigningRecord {
  private readonly db: Database;
  private readonly signed: Sublevel<SignedEntry>;
  /** Per-candidate chains of pending calls, so two verdicts for one candidate never race. */
  private readonly pending = new Map<Hex, Promise<unknown>>();

  constructor(db: Database) {
    this.db = db;
    this.signed = db.sublevel<SignedEntry>("signed");
  }

  async signedDigest(candidateId: Hex): Promise<Hex | undefined> {
    return (await this.signed.get(candidateId))?.digest;
  }

  async entries(): Promise<SignedVerdictEntry[]> {
    const entries: SignedVerdictEntry[] = [];
    for await (const [candidateId, entry] of this.signed.entries()) {
      if (candidateId.startsWith("0x")) entries.push({ candidateId: candidateId as Hex, digest: entry.digest, signedAt: entry.signedAt });
    }
    return entries;
  }

  async rotationEntries(): Promise<SignedRotationEntry[]> {
    const entries: SignedRotationEntry[] = [];
    for await (const [key, entry] of this.signed.entries({ gte: ROTATION_PREFIX, lt: `${ROTATION_PREFIX}~` })) {
      entries.push({ setIndex: Number(key.slice(ROTATION_PREFIX.length)), digest: entry.digest, signedAt: entry.signedAt });
    }
    return entries;
  }

  /**
   * Adds another machine's entries for this key, in one fsync'd batch, or none of them: an
   * entry whose digest differs from the one recorded here is a ConflictingVerdictError naming
   * the first such candidate or rotation, and nothing is written (the caller lists them all first).
   */
  async merge(entries: SignedVerdictEntry[], rotations: SignedRotationEntry[] = []): Promise<{ added: number; known: number }> {
    const all = keyed(entries, rotations);
    const added: typeof all = [];
    for (const entry of all) {
      const existing = await this.signed.get(entry.key);
      if (existing && existing.digest !== entry.digest) throw new ConflictingVerdictError(entry.key, existing.digest, entry.digest);
      if (!existing) added.push(entry);
    }
    if (added.length > 0) {
      await this.db.batch(
        added.map((e) => ({ sublevel: "signed" as const, key: e.key, value: { digest: e.digest, signedAt: e.signedAt } })),
        { sync: true },
      );
    }
    return { added: added.length, known: all.length - added.length };
  }

  /** The entries whose digest differs from the one recorded here (`candidateId` is `rotation:<index>` for a rotation). */
  async conflicts(entries: SignedVerdictEntry[], rotations: SignedRotationEntry[] = []): Promise<{ candidateId: Hex; localDigest: Hex; importedDigest: Hex }[]> {
    const found = [];
    for (const entry of keyed(entries, rotations)) {
      const existing = await this.signed.get(entry.key);
      if (existing && existing.digest !== entry.digest) found.push({ candidateId: entry.key, localDigest: existing.digest, importedDigest: entry.digest });
    }
    return found;
  }

  /**
   * The same guard for validator-set rotations: one rotation digest per new set index, ever.
   * Two rotations signed for one index could both reach the threshold, and the chains that
   * received each would then disagree on the set.
   */
  signRotationOnce<T>(setIndex: number, digest: Hex, now: Date, sign: () => T): Promise<T> {
    return this.signOnce(rotationKey(setIndex), digest, now, sign);
  }

  async signedRotation(setIndex: number): Promise<Hex | undefined> {
    return (await this.signed.get(rotationKey(setIndex)))?.digest;
  }

  /**
   * Records (fsync'd) that this node signs `digest` for `candidateId`, then calls `sign`.
   * Signing the same digest again is allowed (BLS is deterministic: the same signature);
   * any other digest for the same candidate throws ConflictingVerdictError.
   */
  signOnce<T>(candidateId: Hex, digest: Hex, now: Date, sign: () => T): Promise<T> {
    const previous = this.pending.get(candidateId) ?? Promise.resolve();
    const run = previous.then(async () => {
      const existing = await this.signed.get(candidateId);
      if (existing && existing.digest !== digest) throw new ConflictingVerdictError(candidateId, existing.digest, digest);
      if (!existing) {
        faultPoint("signing.beforeRecord");
        await this.db.batch([{ sublevel: "signed", key: candidateId, value: { digest, signedAt: now.toISOString() } }], {
          sync: true,
        });
        faultPoint("signing.afterRecord");
      }
      return sign();
    });
    const settled = run.catch(() => undefined);
    this.pending.set(candidateId, settled);
    void settled.then(() => {
      if (this.pending.get(candidateId) === settled) this.pending.delete(candidateId);
    });
    return run;
  }
}
