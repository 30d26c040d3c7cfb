// Where candidates enter a node: the HTTP API (with their source bundle) and gossip. Admission
// decides; intake stores what was admitted, keeps its bundle, forwards it, and hands it on.
import type { Logger } from "pino";
import type { Address, Hex } from "viem";
import { AdmissionError, type Admission, type AdmittedCandidate } from "../admission/admission.ts";
import { bundleHash, parseBundle, type SourceBundle } from "../codec/bundle.ts";
import { signedCandidateToJson } from "../codec/candidate.ts";
import type { Clock } from "../util/clock.ts";
import { faultPoint } from "../util/faultPoints.ts";
import type { CandidateSource, CandidateStore } from "./candidateStore.ts";

export interface IntakeModules {
  admission: Pick<Admission, "admit" | "admitBytes">;
  store: CandidateStore;
  /** Publishes a candidate on gossip. */
  publish(bytes: Uint8Array): Promise<void>;
  /** Called once per admitted candidate, after it is stored. */
  onAdmitted(admitted: AdmittedCandidate, source: CandidateSource, receivedAt: number | undefined): void;
  clock: Clock;
  logger: Logger;
}

export class Intake {
  readonly #m: IntakeModules;

  constructor(_options: object, modules: IntakeModules) {
    this.#m = modules;
  }

  /** A candidate posted to the API: admitted, stored with its bundle, then gossiped. */
  async submit(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }> {
    const sent = await this.#bundleOfSubmission(body);
    const keepBundle = async () => {
      if (sent) await this.#m.store.putBundle(sent.bundle, sent.hash);
    };
    try {
      const claimed = (body as { proposer?: unknown } | null)?.proposer;
      const admitted = await this.#m.admission.admit(body, typeof claimed === "string" ? { proposer: claimed as Address } : {});
      await keepBundle();
      await this.#store(admitted, "api", null);
      await this.#m.publish(new TextEncoder().encode(JSON.stringify(signedCandidateToJson(admitted.signed))));
      return { candidateId: admitted.id, duplicate: false };
    } catch (error) {
      if (error instanceof AdmissionError && error.code === "DUPLICATE" && error.candidateId) {
        // A known candidate sent again with its bundle: keep the bundle, so that this node can
        // serve it to peers still waiting for it.
        await keepBundle();
        return { candidateId: error.candidateId, duplicate: true };
      }
      throw error;
    }
  }

  /** A gossiped candidate: the gossip action admission decided, or accept. */
  async fromGossip(data: Uint8Array, from: string): Promise<"accept" | "reject" | "ignore"> {
    const received = this.#m.clock.now();
    try {
      const admitted = await this.#m.admission.admitBytes(data);
      await this.#store(admitted, "gossip", from, received);
      return "accept";
    } catch (error) {
      if (error instanceof AdmissionError) {
        this.#m.logger.debug({ code: error.code }, "gossip candidate refused");
        return error.action;
      }
      throw error;
    }
  }

  async #store(admitted: AdmittedCandidate, source: CandidateSource, from: string | null, received?: number): Promise<void> {
    faultPoint("admission.admitted");
    await this.#m.store.add(admitted, source, from, new Date(this.#m.clock.now()));
    faultPoint("admission.stored");
    this.#m.logger.info({ candidate: admitted.id, source, target: admitted.signed.candidate.target }, "candidate admitted");
    this.#m.onAdmitted(admitted, source, received);
  }

  /**
   * The bundle sent with a candidate through the API: it must parse and hash to the candidate's
   * sourceHash. It may be left out only if this node already holds it (the proposer sent it
   * before); otherwise no node could verify the candidate.
   */
  async #bundleOfSubmission(body: unknown): Promise<{ bundle: SourceBundle; hash: Hex } | undefined> {
    const sourceHash = (body as { candidate?: { sourceHash?: unknown } } | null)?.candidate?.sourceHash;
    const raw = (body as { bundle?: unknown } | null)?.bundle;
    if (raw === undefined) {
      if (typeof sourceHash === "string" && (await this.#m.store.hasBundle(sourceHash))) return undefined;
      throw new AdmissionError("BUNDLE_REQUIRED", "send the candidate's source bundle in the `bundle` field (docs/verification.md)");
    }
    let bundle: SourceBundle;
    try {
      bundle = parseBundle(raw);
    } catch (error) {
      throw new AdmissionError("BUNDLE_INVALID", `bundle.${(error as Error).message}`);
    }
    const hash = bundleHash(bundle);
    if (typeof sourceHash !== "string" || hash !== sourceHash.toLowerCase()) {
      throw new AdmissionError("BUNDLE_INVALID", `the bundle hashes to ${hash}, not to candidate.sourceHash`);
    }
    return { bundle, hash };
  }
}
