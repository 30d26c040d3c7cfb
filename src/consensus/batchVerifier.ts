// Verifies BLS signatures in batches: messages arriving together are checked with one blst
// multi-verification (random linear combination), far cheaper than one pairing check each.
// Signatures over the same message (a committee's verdicts on one candidate) are first combined
// with random 64-bit scalars into one set (blst's aggregateWithRandomness, as Lodestar does for
// attestations): one pairing for the group instead of one per signature, and no cancellation —
// two signatures that are each invalid but sum to a valid one fail, as they would alone.
// If a batch fails, every set in it is checked alone, so the bad one is found and only its
// sender is penalised.
import {
  aggregateWithRandomness,
  verify,
  verifyMultipleAggregateSignatures,
  type PublicKey,
  type Signature,
  type SignatureSet as BlstSignatureSet,
} from "@chainsafe/blst";
import { bytesToHex } from "viem";

export interface SignatureSet {
  message: Uint8Array;
  /** A validated key (registry keys are checked when the set is loaded). */
  publicKey: PublicKey;
  /** Deserialised, not yet subgroup-checked: the verifier checks it. */
  signature: Signature;
}

export interface BatchVerifierOptions {
  /** Beyond this many sets the batch is verified at once. */
  maxBatch: number;
  /** How long the first set of a batch waits for company: a latency cost traded for throughput. */
  maxWaitMs: number;
}

export const DEFAULT_BATCH_VERIFIER: BatchVerifierOptions = { maxBatch: 64, maxWaitMs: 2 };

interface Job {
  set: SignatureSet;
  resolve(valid: boolean): void;
}

export class BatchVerifier {
  private readonly options: BatchVerifierOptions;
  private queue: Job[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Counters for metrics and benchmarks. */
  readonly stats = { sets: 0, batches: 0, batchFailures: 0 };

  constructor(options: BatchVerifierOptions = DEFAULT_BATCH_VERIFIER) {
    this.options = options;
  }

  verify(set: SignatureSet): Promise<boolean> {
    return new Promise((resolve) => {
      this.queue.push({ set, resolve });
      if (this.queue.length >= this.options.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length === 0) return;
    this.stats.sets += jobs.length;
    this.stats.batches++;
    if (jobs.length > 1 && verifyBatch(jobs.map((job) => job.set))) {
      for (const job of jobs) job.resolve(true);
      return;
    }
    if (jobs.length > 1) this.stats.batchFailures++;
    for (const job of jobs) job.resolve(verifyOne(job.set));
  }
}

function verifyBatch(sets: SignatureSet[]): boolean {
  try {
    const byMessage = new Map<string, SignatureSet[]>();
    for (const set of sets) {
      const key = bytesToHex(set.message);
      const group = byMessage.get(key);
      if (group) group.push(set);
      else byMessage.set(key, [set]);
    }
    const combined: BlstSignatureSet[] = [...byMessage.values()].map((group) => {
      const [first] = group;
      if (group.length === 1) return { msg: first!.message, pk: first!.publicKey, sig: first!.signature };
      // blst takes the signatures serialised and checks their subgroup as it reads them back;
      // uncompressed, reading them back costs no square root.
      const { pk, sig } = aggregateWithRandomness(group.map((set) => ({ pk: set.publicKey, sig: set.signature.toBytes(false) })));
      return { msg: first!.message, pk, sig };
    });
    // Group-checks the singletons (and each combination again: one check per verdict).
    if (combined.length === 1) return verify(combined[0]!.msg, combined[0]!.pk, combined[0]!.sig, false, true);
    return verifyMultipleAggregateSignatures(combined, false, true);
  } catch {
    return false;
  }
}

function verifyOne(set: SignatureSet): boolean {
  try {
    return verify(set.message, set.publicKey, set.signature, false, true);
  } catch {
    return false;
  }
}
