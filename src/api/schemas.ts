// The HTTP API's JSON schemas: one definition each, used by fastify (ajv) to validate requests
// and by @fastify/swagger to write the OpenAPI 3.1 document served at /openapi.json. Response
// schemas only describe (the server serialises with JSON.stringify, so bodies never lose a
// field); the test in test/api/openapi.test.ts checks every real answer against them.
import { EVENT_TYPES } from "../events/eventLog.ts";
import { CHAIN_ID_PATTERN, EVENT_ID_PATTERN, MAX_TARGET_FILTER } from "./eventStream.ts";

const HEX32 = "^0x[0-9a-fA-F]{64}$";
const ADDRESS = "^0x[0-9a-fA-F]{40}$";
const UINT = "^(0|[1-9][0-9]{0,77})$";

/** Every 4xx/5xx answer: a code callers branch on, and a reason for people. */
export const errorSchema = {
  $id: "Error",
  type: "object",
  required: ["error", "message"],
  additionalProperties: false,
  properties: {
    error: { type: "string", pattern: "^[A-Z][A-Z_]*$", description: "a stable code, e.g. MALFORMED, NOT_ENROLLED, METHOD_NOT_ALLOWED" },
    message: { type: "string", description: "what is wrong, and what to do" },
  },
} as const;

const error = (description: string) => ({ description, $ref: "Error#" });

const uint = (description: string) => ({ type: "string", pattern: UINT, description: `${description} (decimal string)` });

export const candidateSchema = {
  type: "object",
  required: ["chainId", "target", "implementation", "sourceHash", "policyHash", "blockNumber", "nonce", "createdAt", "expiresAt"],
  properties: {
    chainId: uint("the chain the upgrade happens on"),
    target: { type: "string", pattern: ADDRESS, description: "the proxy being upgraded" },
    implementation: { type: "string", pattern: ADDRESS, description: "the new implementation, deployed, not yet activated" },
    sourceHash: { type: "string", pattern: HEX32, description: "keccak256 of the source bundle" },
    policyHash: { type: "string", pattern: HEX32, description: "the policy enrolled for the target" },
    blockNumber: uint("the block every node verifies at (uint64)"),
    nonce: uint("uint64"),
    createdAt: uint("unix seconds (uint64): the verdict's issue time"),
    expiresAt: uint("unix seconds (uint64)"),
    binding: {
      type: "string",
      pattern: "^0x(?!0{64}$)[0-9a-fA-F]{64}$",
      description: "optional: the TimelockController operation id or Safe transaction hash the approval is limited to (signed as a BoundCandidate); leave out for an unbound approval, never zero",
    },
  },
} as const;

export const submissionSchema = {
  type: "object",
  required: ["candidate", "signature"],
  properties: {
    candidate: candidateSchema,
    signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$", description: "the proposer's 65-byte EIP-712 signature of the candidate" },
    bundle: { type: "object", description: "the source bundle (docs/verification.md); may be left out only if this node already holds it" },
    proposer: {
      type: "string",
      pattern: ADDRESS,
      description: "the address the submitter says signed; when it differs from the recovered signer the answer is 400 BAD_SIGNATURE, not 403 NOT_ENROLLED",
    },
  },
} as const;

export const candidateIdParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", pattern: HEX32, description: "the candidate id (its EIP-712 digest)" } },
} as const;

/** One of the two signatures of an equivocation proof. */
const signedVerdictRef = {
  type: "object",
  required: ["digest", "signature"],
  properties: { digest: { type: "string", pattern: HEX32 }, signature: { type: "string" }, verdict: { type: "object" } },
} as const;

export const attestationsQuery = {
  type: "object",
  required: ["chainId", "target"],
  properties: {
    chainId: { type: "string", pattern: "^[1-9][0-9]{0,19}$", description: "a positive integer" },
    target: { type: "string", pattern: ADDRESS },
  },
} as const;

export const eventsQuery = {
  type: "object",
  properties: {
    lastEventId: { type: "string", pattern: EVENT_ID_PATTERN, description: "resume after this id (the Last-Event-ID header wins)" },
    types: { type: "string", description: `comma-separated subset of ${EVENT_TYPES.join(", ")}` },
    candidateId: { type: "string", pattern: HEX32, description: "only this candidate's events" },
    target: { type: "string", pattern: `^0x[0-9a-fA-F]{40}(,0x[0-9a-fA-F]{40}){0,${MAX_TARGET_FILTER - 1}}$`, description: `only events about these contracts (comma-separated, at most ${MAX_TARGET_FILTER}): candidate.admitted, verification.deferred, verdict.signed, attestation.formed, revocation.alert, revocation.signed` },
    chainId: { type: "string", pattern: CHAIN_ID_PATTERN, description: "only events about a target on this chain" },
  },
} as const;

/** One server-sent event's `data`: the event as the event log keeps it (src/events/eventLog.ts). */
export const eventSchema = {
  type: "object",
  required: ["id", "type", "at", "candidateId", "data"],
  properties: {
    id: { type: "integer", minimum: 1, description: "monotonic per node; also the SSE `id`, for Last-Event-ID" },
    type: { type: "string", enum: [...EVENT_TYPES], description: "also the SSE `event` name" },
    at: { type: "integer", description: "when it happened on this node (ms since the epoch)" },
    candidateId: { type: "string", pattern: HEX32 },
    data: { description: "the event's details" },
  },
} as const;

const attestationRecord = {
  type: "object",
  required: ["candidateId", "digest", "encoded", "setIndex", "signers", "outcome", "chainId", "target"],
  properties: {
    candidateId: { type: "string" },
    digest: { type: "string" },
    encoded: { type: "string", description: "the attestation, hex: 554 bytes, or 586 when its verdict is bound to an operation" },
    setIndex: { type: "integer" },
    signers: { type: "array", items: { type: "integer" } },
    outcome: { type: "integer" },
    chainId: { type: "string" },
    target: { type: "string" },
  },
} as const;

/** Where a candidate under a policy's human gate stands on this node (candidates/humanGate.ts). */
const humanGateStatus = {
  type: "object",
  required: ["state", "count", "threshold", "approvers", "approvedBy", "findingsDigest", "closesAt", "message"],
  properties: {
    state: { enum: ["awaiting-approvals", "approved", "rejected"] },
    count: { type: "integer", description: "distinct policy approvers whose valid approvals this node holds" },
    threshold: { type: "integer" },
    approvers: { type: "array", items: { type: "string" } },
    approvedBy: { type: "array", items: { type: "string" } },
    findingsDigest: { type: "string", pattern: HEX32, description: "this node's automated findings digest: what approvers sign" },
    closesAt: { type: "string", description: "when the window closes (ISO 8601); without m approvals by then the node signs REJECT" },
    message: { type: "string" },
  },
} as const;

const relayStatus = { type: "object", description: "per chain id: the relay's result, or where it stands while pending (null before any)" } as const;

export const routeSchemas = {
  submit: {
    summary: "Submit a signed candidate with its source bundle",
    body: submissionSchema,
    response: {
      200: { description: "already known", type: "object", required: ["candidateId", "status"], properties: { candidateId: { type: "string", pattern: HEX32 }, status: { const: "known" } } },
      202: { description: "admitted", type: "object", required: ["candidateId", "status"], properties: { candidateId: { type: "string", pattern: HEX32 }, status: { const: "admitted" } } },
      400: error("malformed (CANDIDATE_REQUIRED, MALFORMED naming the field, BAD_JSON) or refused (BAD_SIGNATURE, BUNDLE_REQUIRED, BUNDLE_INVALID, EXPIRED, BAD_LIFETIME, UNKNOWN_CHAIN, …)"),
      403: error("NOT_ENROLLED: the recovered signer is not an enrolled proposer of the target"),
      408: error("BODY_TIMEOUT: the body did not arrive in time"),
      413: error("TOO_LARGE: body over 4 MiB + 64 KiB"),
      415: error("UNSUPPORTED_MEDIA_TYPE: Content-Type must be application/json"),
      503: error("CHAIN_UNAVAILABLE: this node could not read the target's chain"),
    },
  },
  candidate: {
    summary: "A candidate's status on this node",
    params: candidateIdParams,
    response: {
      200: {
        description: "admission, verification, signing, verdicts, attestation, relay and timeline",
        type: "object",
        required: ["candidateId", "candidate", "proposer", "admittedAt", "verification", "signedDigest", "verdictsSeen", "timeline", "attestation", "relay"],
        properties: {
          candidateId: { type: "string", pattern: HEX32 },
          candidate: { type: ["object", "null"] },
          proposer: { type: ["string", "null"] },
          admittedAt: { type: ["string", "null"] },
          verification: { type: ["object", "null"] },
          humanGate: { anyOf: [humanGateStatus, { type: "null" }] },
          signedDigest: { type: ["string", "null"] },
          verdictsSeen: {},
          timeline: {},
          attestation: { anyOf: [attestationRecord, { type: "null" }] },
          relay: relayStatus,
        },
      },
      400: error("BAD_ID"),
      404: error("NOT_FOUND"),
    },
  },
  attestation: {
    summary: "A candidate's attestation and its relay status",
    params: candidateIdParams,
    response: {
      200: { description: "the attestation", ...attestationRecord, properties: { ...attestationRecord.properties, relay: relayStatus } },
      400: error("BAD_ID"),
      404: error("NOT_FOUND"),
    },
  },
  attestations: {
    summary: "The attestations for one target",
    querystring: attestationsQuery,
    response: {
      200: { description: "the attestations", type: "object", required: ["attestations"], properties: { attestations: { type: "array", items: attestationRecord } } },
      400: error("BAD_QUERY"),
    },
  },
  events: {
    summary: "The node's events as server-sent events, resumable with Last-Event-ID",
    description:
      "Each event is sent as `id: <id>`, `event: <type>`, `data: <JSON of the event>`; comments (`: ping`) are heartbeats. A client that reads slower than events arrive is cut off and resumes with Last-Event-ID.",
    querystring: eventsQuery,
    headers: { type: "object", properties: { "last-event-id": { type: "string", description: "resume after this id" } } },
    response: {
      200: { description: "the event stream", content: { "text/event-stream": { schema: eventSchema } } },
      400: error("BAD_EVENT_ID, BAD_QUERY"),
      503: error("TOO_MANY_STREAMS"),
    },
  },
  monitoring: {
    summary: "Continuous monitoring: the approvals this node watches on the live chains, each invariant's breach episodes, and counters",
    description:
      "An approval is watched while this node holds its attestation (unexpired, not revoked) and its candidate's policy; its invariants are read on each new block once its code is live behind the proxy. An episode starts when an invariant breaks and ends after it held for the cooldown; each episode start is one `revocation.alert` (docs/monitoring.md).",
    response: {
      200: {
        description: "the monitor's state",
        type: "object",
        required: ["stats", "approvals", "episodes"],
        properties: {
          stats: { type: "object", description: "blocks, readings, unreadable, alerts, suppressed", additionalProperties: { type: "integer" } },
          approvals: {
            type: "array",
            items: {
              type: "object",
              required: ["approvalId", "chainId", "target", "codehash", "invariants"],
              properties: {
                approvalId: { type: "string", pattern: HEX32 },
                chainId: { type: "string" },
                target: { type: "string" },
                codehash: { type: "string", pattern: HEX32 },
                invariants: { type: "array", items: { type: "string" } },
              },
            },
          },
          episodes: {
            type: "array",
            items: {
              type: "object",
              required: ["key", "broken", "episodes", "inEpisode"],
              properties: {
                key: { type: "string", description: "<approval id>|<invariant name>" },
                broken: { type: "boolean" },
                episodes: { type: "integer" },
                inEpisode: { type: "boolean" },
              },
            },
          },
        },
      },
    },
  },
  evidence: {
    summary: "Equivocation evidence: validators that signed two different verdicts for one candidate",
    description:
      "Each proof holds both signatures and digests (and the verdicts where this node still held them); each signature verifies against the validator's key in set `setIndex`, so the proof does not rest on this node's word. At most 100 per answer.",
    querystring: { type: "object", properties: { candidateId: { type: "string", pattern: HEX32, description: "only this candidate's" } } },
    response: {
      200: {
        description: "the proofs",
        type: "object",
        required: ["evidence"],
        properties: {
          evidence: {
            type: "array",
            items: {
              type: "object",
              required: ["candidateId", "setIndex", "validatorIndex", "first", "second"],
              properties: {
                candidateId: { type: "string", pattern: HEX32 },
                setIndex: { type: "integer" },
                validatorIndex: { type: "integer" },
                first: signedVerdictRef,
                second: signedVerdictRef,
              },
            },
          },
        },
      },
      400: error("BAD_QUERY"),
    },
  },
  peers: {
    summary: "Connected peers with this node's gossipsub score of each",
    response: {
      200: {
        description: "the peers",
        type: "object",
        required: ["peers"],
        properties: { peers: { type: "array", items: { type: "object", required: ["peerId", "score"], properties: { peerId: { type: "string" }, score: { type: "number" } } } } },
      },
    },
  },
  status: {
    summary: "The network at a glance, as this node sees it (the status page's data)",
    description: "Peers, the validator set and this node's index in it (null: not a member), each chain's health as the node's own reads find it, and the candidates of the newest events with their verdict progress (signatures this node has seen for the leading verdict / the threshold) and each chain's relay state.",
    response: {
      200: {
        description: "the status",
        type: "object",
        required: ["node", "validatorSet", "peers", "chains", "candidates", "lastEventId"],
        properties: {
          node: { type: "object", required: ["name", "peerId"], properties: { name: { type: "string" }, peerId: { type: "string" } } },
          validatorSet: {
            type: "object",
            required: ["index", "size", "threshold", "self", "validators"],
            properties: {
              index: { type: "integer" },
              size: { type: "integer" },
              threshold: { type: "integer" },
              self: { type: ["integer", "null"], description: "this node's validator index" },
              validators: { type: "array", items: { type: "object", required: ["index", "publicKey"], properties: { index: { type: "integer" }, publicKey: { type: "string", description: "compressed BLS public key, hex" } } } },
            },
          },
          peers: { type: "array", items: { type: "object", required: ["peerId", "score"], properties: { peerId: { type: "string" }, score: { type: "number" } } } },
          chains: {
            type: "array",
            items: {
              type: "object",
              required: ["chainId", "reachable", "since", "reason"],
              properties: {
                chainId: { type: "integer" },
                reachable: { type: ["boolean", "null"], description: "null before the first read" },
                since: { type: ["integer", "null"], description: "when it last changed (ms since the epoch)" },
                reason: { type: ["string", "null"], description: "why the last read failed, while unreachable (never the RPC URL)" },
              },
            },
          },
          candidates: {
            type: "array",
            items: {
              type: "object",
              required: ["candidateId", "chainId", "target", "stage", "outcome", "signatures", "threshold", "relay"],
              properties: {
                candidateId: { type: "string", pattern: HEX32 },
                chainId: { type: ["string", "null"] },
                target: { type: ["string", "null"] },
                admittedAt: { type: ["string", "null"] },
                stage: { enum: ["verifying", "abstaining", "collecting", "attested", "recorded"] },
                outcome: { type: ["integer", "null"], description: "1 approve, 2 reject, 3 revoke: the attestation's, else this node's verdict" },
                signatures: { type: "integer", description: "signatures this node has seen for the leading verdict (all of them once attested)" },
                threshold: { type: "integer" },
                relay: { type: "object", additionalProperties: { type: "string" }, description: "per chain id: recorded, a pending state (waiting, sending, confirming, …), failed, or none" },
              },
            },
          },
          lastEventId: { type: "integer", description: "the newest event's id: follow /v1/events from here (lastEventId) to hear of every change after this status" },
        },
      },
    },
  },
  statusPage: {
    summary: "The status page: the network at a glance, live (HTML; reads /v1/status and /v1/events)",
    response: { 200: { description: "the page", content: { "text/html": { schema: { type: "string" } } } } },
  },
  health: {
    summary: "Liveness and counters",
    response: {
      200: {
        description: "the node's identity and counters",
        type: "object",
        required: ["status", "peerId", "peers", "validatorIndex", "setIndex"],
        properties: { status: { const: "ok" }, peerId: { type: "string" }, peers: { type: "integer" }, validatorIndex: { type: ["integer", "null"] }, setIndex: { type: "integer" } },
      },
    },
  },
  ready: {
    summary: "Readiness: peers connected and every chain answering",
    response: {
      200: { description: "ready", $ref: "Readiness#" },
      503: { description: "not ready, with the reasons", $ref: "Readiness#" },
    },
  },
  metrics: {
    summary: "Prometheus text exposition of the node's counters",
    response: { 200: { description: "metrics", content: { "text/plain": { schema: { type: "string" } } } } },
  },
  rotation: {
    summary: "This validator's vote on the next validator set (a one-member rotation)",
    body: {
      type: "object",
      required: ["setIndex", "keys", "threshold", "proofsOfPossession", "proposer"],
      properties: {
        setIndex: { type: "integer", description: "the registries' current set index + 1" },
        keys: { type: "array", items: { type: "string", pattern: "^0x[0-9a-fA-F]{192}$" }, description: "the next set's raw 96-byte keys, strictly ascending" },
        threshold: { type: "integer" },
        proofsOfPossession: { type: "array", items: { type: "string", pattern: "^0x[0-9a-fA-F]{512}$" }, description: "EIP-2537 proofs, one per key, in the keys' order" },
        proposer: {
          type: "object",
          required: ["validatorIndex", "signature"],
          properties: { validatorIndex: { type: "integer" }, signature: { type: "string", pattern: "^0x[0-9a-fA-F]{512}$", description: "EIP-2537 BLS signature over the RotationProposal digest" } },
        },
      },
    },
    response: {
      200: {
        description: "signed (again, for a rotation it signed before)",
        type: "object",
        required: ["setIndex", "validatorIndex", "digest", "signature"],
        properties: { setIndex: { type: "integer" }, validatorIndex: { type: "integer" }, digest: { type: "string", pattern: HEX32 }, signature: { type: "string" } },
      },
      400: error("MALFORMED naming the field, or refused: WRONG_SET_INDEX, SETS_DIFFER, UNSORTED_KEYS, INVALID_KEY, NOT_ONE_CHANGE, BAD_THRESHOLD, BAD_PROOF_OF_POSSESSION, BAD_PROPOSER"),
      403: error("NOT_A_VALIDATOR: this node is not in the current set; NOT_APPROVED: its operator has not approved this change (validator.rotationApprovals)"),
      409: error("CONFLICTING_ROTATION: this node signed another rotation for this set index"),
      503: error("CHAIN_UNAVAILABLE: this node could not read a registry"),
    },
  },
  approval: {
    summary: "Submit a human approver's signed approval of a candidate's automated report (docs/approvals.md)",
    params: candidateIdParams,
    body: {
      type: "object",
      description: "checked field by field by the node (400 MALFORMED names the field)",
      properties: {
        candidateId: { type: "string", description: "the candidate id, as in the path" },
        findingsDigest: { type: "string", description: "the node's automated findings digest (GET /v1/candidates/{id} humanGate.findingsDigest)" },
        expiresAt: { type: "string", description: "unix seconds (decimal string) after which the approval no longer counts" },
        approver: { type: "string", description: "one of the policy's humanGate.approvers" },
        signature: { type: "string", description: "EOA: 65-byte ECDSA signature of the HumanApproval digest (low s); contract wallet: what its ERC-1271 isValidSignature accepts for it" },
      },
    },
    response: {
      200: { description: "counted (202: new; 200: this approver's approval was already held)", type: "object", required: ["candidateId", "status", "humanGate"], properties: { candidateId: { type: "string" }, status: { enum: ["accepted", "known"] }, humanGate: humanGateStatus } },
      202: { description: "accepted: verified, stored, gossiped", type: "object", required: ["candidateId", "status", "humanGate"], properties: { candidateId: { type: "string" }, status: { enum: ["accepted", "known"] }, humanGate: humanGateStatus } },
      400: error("MALFORMED naming the field; BAD_SIGNATURE: neither the approver's ECDSA signature nor accepted by its ERC-1271 isValidSignature (also a signature for another network or candidate); MALLEABLE_SIGNATURE: high s; EXPIRED; BAD_ID"),
      403: error("NOT_APPROVER: not one of the policy's humanGate.approvers"),
      404: error("UNKNOWN_CANDIDATE: this node holds no such candidate (or the body names another one)"),
      409: error("NOT_VERIFIED: no approving automated report here yet (not verified, rejected, or no human gate); DECIDED: the verdict is signed; OTHER_FINDINGS: the approval is of another findings digest"),
      415: error("UNSUPPORTED_MEDIA_TYPE: Content-Type must be application/json"),
      503: error("UNVERIFIABLE: this node could not call the approver's isValidSignature"),
    },
  },
  openapi: {
    summary: "This document",
    response: { 200: { description: "the OpenAPI 3.1 document", type: "object" } },
  },
} as const;

export const readinessSchema = {
  $id: "Readiness",
  type: "object",
  required: ["ready", "reasons"],
  properties: { ready: { type: "boolean" }, reasons: { type: "array", items: { type: "string" } } },
} as const;
