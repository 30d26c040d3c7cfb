// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {SentinelTypes} from "./SentinelTypes.sol";

/// @title The attestation wire format: a verdict, who signed it, and the aggregate signature.
/// @notice A fixed-length packed encoding per version, mirrored by src/codec/attestation.ts.
/// Fixed length means "truncated" and "trailing bytes" are exact checks, and a bridge can carry
/// the bytes to any chain unchanged. Version 1 (554 bytes) carries an unbound verdict; version
/// 2 (586 bytes) a verdict bound to one operation, its `binding` inserted before the signers.
///
///   offset  size  field
///        0     1  version (1)
///        1    32  networkId
///       33     4  setIndex        validator set whose members signed
///       37   229  verdict         candidateId 32, chainId 32, target 20, codehash 32,
///                                 outcome 1, policyHash 32, reasons 32, findingsDigest 32,
///                                 issuedAt 8, expiresAt 8
///      266    32  signers         bitmap; bit i = the i-th key of the set (sorted order)
///      298   256  signature       aggregate G2 signature, EIP-2537 encoding
///
///   version 2: offsets 0..265 as above (version byte 2), then
///      266    32  binding         never zero (an unbound verdict is version 1, one encoding each)
///      298    32  signers
///      330   256  signature
library Attestation {
    uint8 internal constant VERSION = 1;
    uint256 internal constant LENGTH = 554;
    uint8 internal constant BOUND_VERSION = 2;
    uint256 internal constant BOUND_LENGTH = 586;

    uint256 private constant NETWORK_ID = 1;
    uint256 private constant SET_INDEX = 33;
    uint256 private constant CANDIDATE_ID = 37;
    uint256 private constant CHAIN_ID = 69;
    uint256 private constant TARGET = 101;
    uint256 private constant CODEHASH = 121;
    uint256 private constant OUTCOME = 153;
    uint256 private constant POLICY_HASH = 154;
    uint256 private constant REASONS = 186;
    uint256 private constant FINDINGS_DIGEST = 218;
    uint256 private constant ISSUED_AT = 250;
    uint256 private constant EXPIRES_AT = 258;
    uint256 private constant SIGNERS = 266;
    uint256 internal constant SIGNATURE = 298;
    uint256 private constant BINDING = 266;
    uint256 private constant BOUND_SIGNERS = 298;
    uint256 private constant BOUND_SIGNATURE = 330;

    error AttestationTruncated(uint256 length, uint256 expected);
    error AttestationTrailingBytes(uint256 length, uint256 expected);
    error UnsupportedAttestationVersion(uint8 version);
    error ZeroBinding();

    struct Header {
        bytes32 networkId;
        uint32 setIndex;
        uint256 signers;
    }

    /// @notice Splits an attestation into its parts; reverts on any length or version mismatch.
    function decode(bytes calldata attestation)
        internal
        pure
        returns (Header memory header, SentinelTypes.Verdict memory verdict)
    {
        uint8 version = attestation.length == 0 ? 0 : uint8(attestation[0]);
        uint256 expected = version == BOUND_VERSION ? BOUND_LENGTH : LENGTH;
        if (attestation.length < expected) revert AttestationTruncated(attestation.length, expected);
        if (attestation.length > expected) revert AttestationTrailingBytes(attestation.length, expected);
        if (version != VERSION && version != BOUND_VERSION) revert UnsupportedAttestationVersion(version);
        uint256 signers = version == BOUND_VERSION ? BOUND_SIGNERS : SIGNERS;
        assembly ("memory-safe") {
            let data := attestation.offset
            mstore(header, calldataload(add(data, NETWORK_ID)))
            mstore(add(header, 0x20), shr(224, calldataload(add(data, SET_INDEX))))
            mstore(add(header, 0x40), calldataload(add(data, signers)))

            mstore(verdict, calldataload(add(data, CANDIDATE_ID)))
            mstore(add(verdict, 0x20), calldataload(add(data, CHAIN_ID)))
            mstore(add(verdict, 0x40), shr(96, calldataload(add(data, TARGET))))
            mstore(add(verdict, 0x60), calldataload(add(data, CODEHASH)))
            mstore(add(verdict, 0x80), shr(248, calldataload(add(data, OUTCOME))))
            mstore(add(verdict, 0xa0), calldataload(add(data, POLICY_HASH)))
            mstore(add(verdict, 0xc0), calldataload(add(data, REASONS)))
            mstore(add(verdict, 0xe0), calldataload(add(data, FINDINGS_DIGEST)))
            mstore(add(verdict, 0x100), shr(192, calldataload(add(data, ISSUED_AT))))
            mstore(add(verdict, 0x120), shr(192, calldataload(add(data, EXPIRES_AT))))
        }
        if (version == BOUND_VERSION) {
            verdict.binding = bytes32(attestation[BINDING:BINDING + 32]);
            // A zero binding would be a second encoding of an unbound verdict.
            if (verdict.binding == bytes32(0)) revert ZeroBinding();
        }
    }

    /// @notice The aggregate signature, copied to memory for the pairing check.
    /// The caller has decoded the attestation, so its length matches its version.
    function signature(bytes calldata attestation) internal pure returns (bytes memory sig) {
        uint256 offset = attestation.length == BOUND_LENGTH ? BOUND_SIGNATURE : SIGNATURE;
        sig = attestation[offset:offset + 256];
    }
}
