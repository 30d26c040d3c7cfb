// The Sentinel client: the one front of src/client/. What a protocol team's scripts and a bridge
// relayer import. It reaches no libp2p, level or devnet code: a relayer installs it alone.
export { SentinelClient, type SentinelClientOptions, type Submission, type WaitOptions, type SubscribeOptions, type Subscription } from "./client.ts";
export { verifyAttestationOffline, readValidatorSet, type OfflineVerification } from "./verify.ts";
export { ClientError, type ClientErrorCode, type ClientErrorMeta } from "./errors.ts";
export { SseParser, type SseMessage } from "./sse.ts";
export type {
  ApprovalSubmission,
  AttestationRecord,
  HumanGateStatus,
  CandidateStatus,
  Decision,
  DecisionOutcome,
  NodeEvent,
  Progress,
  RelayPending,
  RelayResult,
  RelayStatus,
} from "./types.ts";
export type { ValidatorSetView } from "../consensus/validatorSet.ts";
export type { Verdict } from "../codec/types.ts";
export { SentinelError, hasCode } from "../errors.ts";
