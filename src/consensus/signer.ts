// The signer's duties: a verified candidate's verdict is written to the signing record (fsync'd)
// before its BLS signature exists outside this process, then counted by this node's own
// aggregator and sent to the candidate's aggregators. If no attestation follows in time, the
// verdict goes to every node: the aggregators may be gone, or the verdicts split.
import type { Logger } from "pino";
import { hexToBytes, type Hex } from "viem";
import { verdictDigest, type Verdict } from "../codec/types.ts";
import { encodeVerdictMessage, type VerdictMessage } from "../codec/verdictMessage.ts";
import type { Clock, Timer } from "../util/clock.ts";
import { faultPoint } from "../util/faultPoints.ts";
import { ConflictingVerdictError, type SigningRecord } from "./signingRecord.ts";
import type { CandidateDuties } from "./duties.ts";

export interface SignerOptions {
  networkId: Hex;
  setIndex: number;
  validatorIndex: number;
  /** Far above the time the committee's slowest honest verifiers take to follow the first one. */
  broadcastAfterMs: number;
}

export const DEFAULT_BROADCAST_AFTER_MS = 10_000;

export interface SignerModules {
  record: SigningRecord;
  /** BLS signature of a 32-byte digest, compressed. */
  sign(digest: Uint8Array): Uint8Array;
  /** This node's aggregator: its own verdict counts like anyone's. */
  ingest(message: VerdictMessage): Promise<unknown>;
  duties: CandidateDuties;
  network: { publish(bytes: Uint8Array): Promise<void>; sendToInbox(index: number, bytes: Uint8Array): Promise<void> };
  hasAttestation(candidateId: Hex): Promise<boolean>;
  clock: Clock;
  logger: Logger;
}

export type SignOutcome = { status: "signed"; digest: Hex } | { status: "conflict"; signed: Hex };

export class Signer {
  readonly #options: SignerOptions;
  readonly #m: SignerModules;
  readonly #timers = new Set<Timer>();
  #stopped = false;

  constructor(options: SignerOptions, modules: SignerModules) {
    this.#options = options;
    this.#m = modules;
  }

  /** Signs `verdict` (once: a conflicting verdict is refused) and sends it on its way. */
  async signAndSend(verdict: Verdict, hooks: { onSigned?(): void } = {}): Promise<SignOutcome> {
    const digest = verdictDigest(this.#options.networkId, verdict);
    let signature: Hex;
    try {
      signature = await this.#m.record.signOnce(verdict.candidateId, digest, new Date(this.#m.clock.now()), () =>
        `0x${Buffer.from(this.#m.sign(hexToBytes(digest))).toString("hex")}` as Hex,
      );
    } catch (error) {
      if (error instanceof ConflictingVerdictError) {
        this.#m.logger.error({ candidate: verdict.candidateId, signed: error.signedDigest, refused: error.refusedDigest }, "refused to sign a conflicting verdict");
        return { status: "conflict", signed: error.signedDigest };
      }
      throw error;
    }
    faultPoint("signing.beforeSend");
    hooks.onSigned?.();
    const message: VerdictMessage = { setIndex: this.#options.setIndex, validatorIndex: this.#options.validatorIndex, verdict, signature };
    await this.#m.ingest(message);
    await this.#send(verdict.candidateId, encodeVerdictMessage(message));
    return { status: "signed", digest };
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
  }

  async #send(candidateId: Hex, bytes: Uint8Array): Promise<void> {
    const aggregators = this.#m.duties.aggregatorsOf(candidateId);
    // Fewer than wanted: this node reaches every validator there is to reach (or has not heard
    // their subscriptions yet), so the verdict goes to all of them.
    if (aggregators.length < this.#m.duties.aggregatorsWanted) {
      await this.#m.network.publish(bytes);
      return;
    }
    await Promise.all(aggregators.filter((index) => index !== this.#options.validatorIndex).map((index) => this.#m.network.sendToInbox(index, bytes)));
    const timer = this.#m.clock.setTimeout(() => {
      this.#timers.delete(timer);
      void this.#broadcastIfUnattested(candidateId, bytes).catch((error: unknown) =>
        this.#m.logger.warn({ err: error, candidate: candidateId }, "could not send the verdict to every node"),
      );
    }, this.#options.broadcastAfterMs);
    this.#timers.add(timer);
  }

  async #broadcastIfUnattested(candidateId: Hex, bytes: Uint8Array): Promise<void> {
    if (this.#stopped || (await this.#m.hasAttestation(candidateId))) return;
    this.#m.logger.info({ candidate: candidateId }, "no attestation yet: sending the verdict to every node");
    await this.#m.network.publish(bytes);
  }
}
