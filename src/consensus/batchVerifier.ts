// Verifies BLS signatures in batches: messages arriving together are checked with one blst
// multi-verification (random linear combination), far cheaper than one pairing check each.
// If a batch fails, every set in it is checked alone, so the bad one is found and only its
// sender is penalised.
import { verify, verifyMultipleAggregateSignatures, type PublicKey, type Signature } from "@chainsafe/blst";

export interface SignatureSet {
  message: Uint8Array;
  publicKey: PublicKey;
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
    return verifyMultipleAggregateSignatures(
      sets.map((set) => ({ msg: set.message, pk: set.publicKey, sig: set.signature })),
      false,
      false,
    );
  } catch {
    return false;
  }
}

function verifyOne(set: SignatureSet): boolean {
  try {
    return verify(set.message, set.publicKey, set.signature, false, false);
  } catch {
    return false;
  }
}
