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
