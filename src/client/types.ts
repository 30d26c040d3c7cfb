// What a node's API answers, as the client hands it on. Parsed from untrusted JSON at the edge
// (client.ts checks the fields a caller branches on); fields the client does not read are kept
// as the node sent them.
import type { Address, Hex } from "viem";

/** A relay's result on one chain once it is done. */
export interface RelayResult {
  status: "submitted" | "already-recorded" | "failed";
  txHash?: Hex;
  code?: string;
  error?: string;
  /** false for a failed relay (the registry refused the attestation for good) or one still confirming. */
  final?: boolean;
  finishedAt?: number;
  [key: string]: unknown;
}

/** A relay still under way on one chain. */
export interface RelayPending {
  pending: true;
  state: string;
  dispatches: number;
  lastError: string | null;
  nextAt: number;
  [key: string]: unknown;
}

/** Per chain id (as a decimal string): the relay's result, where it stands, or null before it starts. */
export type RelayStatus = Record<string, RelayResult | RelayPending | null>;

export interface AttestationRecord {
  candidateId: Hex;
  /** The verdict's EIP-712 digest: what the registry records. */
  digest: Hex;
  /** The attestation, hex (554 bytes, 586 when bound to an operation): what `registry.verifyAttestation` and `verifyAttestationOffline` take. */
  encoded: Hex;
  setIndex: number;
  /** Indices (in the set's key order) of the validators whose signatures are aggregated. */
  signers: number[];
  /** 1 approve, 2 reject, 3 revoke. */
  outcome: number;
  chainId: string;
  target: Address;
  codehash: Hex;
  receivedAt?: string;
  relay?: RelayStatus;
  [key: string]: unknown;
}

export interface CandidateStatus {
  candidateId: Hex;
  candidate: unknown;
  proposer: Address | null;
  admittedAt: number | string | null;
  verification: unknown;
  signedDigest: Hex | null;
  verdictsSeen: unknown;
  timeline: Record<string, number> | null;
  attestation: AttestationRecord | null;
  relay: RelayStatus;
  /** Under a policy's human gate: where the approvals stand (null otherwise). */
  humanGate?: HumanGateStatus | null;
  [key: string]: unknown;
}

/** Where a candidate under a policy's human gate stands on a node (`humanGate` of its status). */
export interface HumanGateStatus {
  state: "awaiting-approvals" | "approved" | "rejected";
  count: number;
  threshold: number;
  approvers: Address[];
  approvedBy: Address[];
  /** The node's automated findings digest: what approvers sign. */
  findingsDigest: Hex;
  closesAt: string;
  message: string;
}

/** A human approval as `POST /v1/candidates/{id}/approvals` takes it (docs/approvals.md). */
export interface ApprovalSubmission {
  candidateId: Hex;
  findingsDigest: Hex;
  /** Unix seconds, decimal. */
  expiresAt: string;
  approver: Address;
  signature: Hex;
}

export type DecisionOutcome = "approve" | "reject" | "revoke";

/** Where a candidate stands, as `waitForDecision` reports it step by step. */
export type Progress =
  | { step: "waiting"; message: string }
  | { step: "admitted"; message: string }
  | { step: "verified"; message: string }
  | { step: "signed"; message: string; digest: Hex }
  | { step: "attestation"; message: string; outcome: DecisionOutcome; signers: number[]; digest: Hex }
  | { step: "relay"; message: string; chainId: string; result: RelayResult | RelayPending };

export interface Decision {
  candidateId: Hex;
  outcome: DecisionOutcome;
  digest: Hex;
  attestation: AttestationRecord;
  /** Each chain's final relay result, for the chains the node relays to. */
  chains: Record<string, RelayResult>;
  /** Chains the node served but did not relay to: no relayer for it, or the attestation was read from that chain. */
  notRelayed: string[];
  /** The verdict is recorded on every chain the node relays to (none refused it). */
  recordedEverywhere: boolean;
}

/** One event of a node's `/v1/events` stream. */
export interface NodeEvent {
  id: number;
  type: "candidate.admitted" | "verdict.signed" | "attestation.formed" | "relay.result" | (string & {});
  /** ms since the epoch, on the node. */
  at: number;
  candidateId: Hex;
  data: unknown;
}

export const OUTCOMES: Record<number, DecisionOutcome> = { 1: "approve", 2: "reject", 3: "revoke" };
