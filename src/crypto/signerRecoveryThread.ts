// The signer recovery worker (signerRecovery.ts): recoverSigner for each digest it is handed,
// in order, at a lower scheduling priority than the node's main thread.
import { parentPort, workerData } from "node:worker_threads";
import { lowerThisThreadPriority } from "../util/priority.ts";
import { recoverSigner, SignatureError } from "./ecdsa.ts";
import type { FromRecoveryWorker, ToRecoveryWorker } from "./signerRecovery.ts";

lowerThisThreadPriority((workerData as { niceness: number }).niceness);

parentPort!.on("message", ({ id, digest, signature }: ToRecoveryWorker) => {
  let answer: FromRecoveryWorker;
  try {
    answer = { id, address: recoverSigner(digest, signature) };
  } catch (error) {
    answer = error instanceof SignatureError ? { id, code: error.code, message: error.message } : { id, failed: (error as Error).message };
  }
  parentPort!.postMessage(answer);
});
