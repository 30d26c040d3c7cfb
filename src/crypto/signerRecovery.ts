// Who signed a digest (recoverSigner), asked from a worker thread: libsecp256k1's recovery costs
// 0.25–1 ms of CPU, and admission asks it of every candidate anyone sends, forged ones included.
// On the main thread a burst of forged candidates queued every other request of the node (its
// API's valid requests, gossip) behind that work; in the worker, at a lower scheduling priority,
// the main thread only hands digests over. The worker's answer is exactly recoverSigner's: the
// same function runs there, and its SignatureError comes back with its code.
import { Worker } from "node:worker_threads";
import type { Address, Hex } from "viem";
import { recoverSigner, SignatureError, type SignatureErrorCode } from "./ecdsa.ts";

export interface SignerRecovery {
  /** The signer's address; rejects with SignatureError as recoverSigner throws it. */
  recover(digest: Hex, signature: Hex): Promise<Address>;
  close(): Promise<void>;
}

/** In the calling thread: for tools and tests that recover a handful of signatures. */
export const inlineRecovery: SignerRecovery = {
  recover: async (digest, signature) => recoverSigner(digest, signature),
  close: async () => {},
};

export interface ToRecoveryWorker {
  id: number;
  digest: Hex;
  signature: Hex;
}
export type FromRecoveryWorker = { id: number; address: Address } | { id: number; code: SignatureErrorCode; message: string } | { id: number; failed: string };

const WORKER_URL = new URL("./signerRecoveryThread.ts", import.meta.url);

export interface WorkerRecoveryOptions {
  /** The worker thread's nice value (0 normal, 19 lowest): untrusted input waits behind the node's own work. */
  niceness: number;
}

export const DEFAULT_WORKER_RECOVERY: WorkerRecoveryOptions = { niceness: 5 };

/** One worker thread, started on first use and again after a crash (which fails only what it held). */
export class WorkerRecovery implements SignerRecovery {
  readonly #options: WorkerRecoveryOptions;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(address: Address): void; reject(error: Error): void }>();
  #closed = false;

  constructor(options: Partial<WorkerRecoveryOptions> = {}) {
    this.#options = { ...DEFAULT_WORKER_RECOVERY, ...options };
  }

  recover(digest: Hex, signature: Hex): Promise<Address> {
    if (this.#closed) return Promise.reject(new Error("signer recovery is closed"));
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, digest, signature } satisfies ToRecoveryWorker);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new Error("signer recovery was closed"));
    await worker?.terminate();
  }

  #start(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: { niceness: this.#options.niceness } });
    this.#worker = worker;
    // The node's lifetime is not the worker's business: an idle worker never keeps it running.
    worker.unref();
    worker.on("message", (message: FromRecoveryWorker) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if ("address" in message) pending.resolve(message.address);
      else if ("code" in message) pending.reject(new SignatureError(message.code, message.message));
      else pending.reject(new Error(`signer recovery failed: ${message.failed}`));
    });
    worker.on("error", (error) => this.#died(worker, error));
    worker.on("exit", () => this.#died(worker, new Error("the signer recovery thread exited")));
    return worker;
  }

  #died(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#failAll(error);
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}
