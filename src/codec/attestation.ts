// The attestation wire format, mirrored by contracts/lib/Attestation.sol (layout table there).
import { bytesToHex, concatHex, getAddress, hexToBigInt, numberToHex, pad, size, sliceHex, type Hex } from "viem";
import { Outcome, type Verdict } from "./types.ts";
import { SentinelError } from "../errors.ts";

export const ATTESTATION_VERSION = 1;
export const ATTESTATION_LENGTH = 554;
/** Version 2 carries a bound verdict: its binding between the verdict and the signers. */
export const BOUND_ATTESTATION_VERSION = 2;
export const BOUND_ATTESTATION_LENGTH = 586;

/** The encoded length of each version; anything else is truncated or padded. */
export function isAttestationLength(length: number): boolean {
  return length === ATTESTATION_LENGTH || length === BOUND_ATTESTATION_LENGTH;
}

export interface Attestation {
  networkId: Hex;
  setIndex: number;
  verdict: Verdict;
  /** Bit i set = the i-th key (sorted order) of the set signed. */
  signers: bigint;
  /** Aggregate G2 signature, 256-byte EIP-2537 encoding. */
  signature: Hex;
}

export type AttestationFormatErrorCode =
  /** Not exactly its version's length (truncated, padded). */
  | "WRONG_LENGTH"
  | "UNSUPPORTED_VERSION"
  | "INVALID_OUTCOME"
  /** Version 2 with a zero binding: a second encoding of an unbound verdict. */
  | "INVALID_BINDING"
  /** Encoding only: the aggregate signature is not 256 bytes. */
  | "INVALID_SIGNATURE";

export class AttestationFormatError extends SentinelError<AttestationFormatErrorCode> {
  override name = "AttestationFormatError";
}

const uint = (value: bigint | number, bytes: number): Hex => numberToHex(value, { size: bytes });

/** Offset and length of the candidate id inside an encoded attestation (see Attestation.sol). */
const CANDIDATE_ID_OFFSET = 37;

/** The candidate id of an encoded attestation, read without decoding or checking the rest. */
export function attestationCandidateId(encoded: Uint8Array): Hex | undefined {
  if (encoded.length < CANDIDATE_ID_OFFSET + 32) return undefined;
  return bytesToHex(encoded.subarray(CANDIDATE_ID_OFFSET, CANDIDATE_ID_OFFSET + 32));
}

export function encodeAttestation(attestation: Attestation): Hex {
  const { verdict } = attestation;
  if (size(attestation.signature) !== 256) throw new AttestationFormatError("INVALID_SIGNATURE", "signature must be 256 bytes");
  const bound = verdict.binding !== undefined && !/^0x0{64}$/.test(verdict.binding);
  const encoded = concatHex([
    uint(bound ? BOUND_ATTESTATION_VERSION : ATTESTATION_VERSION, 1),
    pad(attestation.networkId, { size: 32 }),
    uint(attestation.setIndex, 4),
    pad(verdict.candidateId, { size: 32 }),
    uint(verdict.chainId, 32),
    pad(verdict.target, { size: 20 }),
    pad(verdict.codehash, { size: 32 }),
    uint(verdict.outcome, 1),
    pad(verdict.policyHash, { size: 32 }),
    uint(verdict.reasons, 32),
    pad(verdict.findingsDigest, { size: 32 }),
    uint(verdict.issuedAt, 8),
    uint(verdict.expiresAt, 8),
    ...(bound ? [pad(verdict.binding!, { size: 32 })] : []),
    uint(attestation.signers, 32),
    attestation.signature,
  ]);
  if (size(encoded) !== (bound ? BOUND_ATTESTATION_LENGTH : ATTESTATION_LENGTH)) throw new AttestationFormatError("WRONG_LENGTH", `encoded ${size(encoded)} bytes`);
  return encoded;
}

/** Parses untrusted bytes; throws on any length, version, outcome or binding mismatch. */
export function decodeAttestation(encoded: Hex | Uint8Array): Attestation {
  const hex = typeof encoded === "string" ? encoded : bytesToHex(encoded);
  const length = size(hex);
  const field = (offset: number, bytes: number) => sliceHex(hex, offset, offset + bytes, { strict: true });
  const version = length === 0 ? 0 : Number(hexToBigInt(field(0, 1)));
  const expected = version === BOUND_ATTESTATION_VERSION ? BOUND_ATTESTATION_LENGTH : ATTESTATION_LENGTH;
  if (length !== expected) {
    throw new AttestationFormatError("WRONG_LENGTH", `attestation is ${length} bytes, expected ${expected}`, { length });
  }
  if (version !== ATTESTATION_VERSION && version !== BOUND_ATTESTATION_VERSION) {
    throw new AttestationFormatError("UNSUPPORTED_VERSION", `unsupported attestation version ${version}`, { version });
  }
  const outcome = Number(hexToBigInt(field(153, 1)));
  if (!Object.values(Outcome).includes(outcome as Outcome)) throw new AttestationFormatError("INVALID_OUTCOME", `invalid outcome ${outcome}`, { outcome });
  const bound = version === BOUND_ATTESTATION_VERSION;
  const binding = bound ? field(266, 32) : undefined;
  if (binding !== undefined && /^0x0{64}$/.test(binding)) throw new AttestationFormatError("INVALID_BINDING", "a version 2 attestation's binding is zero");
  const tail = bound ? 298 : 266;
  const verdict: Verdict = {
    candidateId: field(37, 32),
    chainId: hexToBigInt(field(69, 32)),
    target: getAddress(field(101, 20)),
    codehash: field(121, 32),
    outcome: outcome as Outcome,
    policyHash: field(154, 32),
    reasons: hexToBigInt(field(186, 32)),
    findingsDigest: field(218, 32),
    issuedAt: hexToBigInt(field(250, 8)),
    expiresAt: hexToBigInt(field(258, 8)),
  };
  if (binding !== undefined) verdict.binding = binding;
  return {
    networkId: field(1, 32),
    setIndex: Number(hexToBigInt(field(33, 4))),
    verdict,
    signers: hexToBigInt(field(tail, 32)),
    signature: field(tail + 32, 256),
  };
}
