// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title The signed structures of Sentinel, as EIP-712 types.
/// @notice Mirrors src/codec/types.ts exactly; test/contracts/codec.test.ts proves both sides
/// produce the same type strings and digests. Change one, change the other.
/// @dev The domain binds the Sentinel network id (as the EIP-712 salt) and version, not a chain
/// id: one attestation is valid on every chain's registry of the same network, never on another
/// network's.
library SentinelTypes {
    string internal constant DOMAIN_NAME = "Sentinel";
    string internal constant DOMAIN_VERSION = "1";

    bytes internal constant DOMAIN_TYPE = "EIP712Domain(string name,string version,bytes32 salt)";
    bytes internal constant VERDICT_TYPE =
        "Verdict(bytes32 candidateId,uint256 chainId,address target,bytes32 codehash,uint8 outcome,bytes32 policyHash,uint256 reasons,bytes32 findingsDigest,uint64 issuedAt,uint64 expiresAt)";
    /// @dev A verdict bound to one governance operation: the Verdict's fields, then `binding`.
    /// A separate type rather than a new Verdict field, so an unbound verdict's digest (and
    /// every attestation signed before bindings existed) is unchanged.
    bytes internal constant BOUND_VERDICT_TYPE =
        "BoundVerdict(bytes32 candidateId,uint256 chainId,address target,bytes32 codehash,uint8 outcome,bytes32 policyHash,uint256 reasons,bytes32 findingsDigest,uint64 issuedAt,uint64 expiresAt,bytes32 binding)";
    bytes internal constant ROTATION_TYPE = "ValidatorSetRotation(uint32 setIndex,bytes32 keysHash,uint16 threshold)";
    bytes internal constant PROOF_OF_POSSESSION_TYPE = "ProofOfPossession(bytes pubkey)";

    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(DOMAIN_TYPE);
    bytes32 internal constant VERDICT_TYPEHASH = keccak256(VERDICT_TYPE);
    bytes32 internal constant BOUND_VERDICT_TYPEHASH = keccak256(BOUND_VERDICT_TYPE);
    bytes32 internal constant ROTATION_TYPEHASH = keccak256(ROTATION_TYPE);
    bytes32 internal constant PROOF_OF_POSSESSION_TYPEHASH = keccak256(PROOF_OF_POSSESSION_TYPE);

    uint8 internal constant OUTCOME_APPROVE = 1;
    uint8 internal constant OUTCOME_REJECT = 2;
    uint8 internal constant OUTCOME_REVOKE = 3;

    struct Verdict {
        bytes32 candidateId;
        uint256 chainId;
        address target;
        bytes32 codehash;
        uint8 outcome;
        bytes32 policyHash;
        uint256 reasons;
        bytes32 findingsDigest;
        uint64 issuedAt;
        uint64 expiresAt;
        /// @dev Zero: unbound (signed as a Verdict). Otherwise the TimelockController operation
        /// id or Safe transaction hash the approval is limited to (signed as a BoundVerdict).
        bytes32 binding;
    }

    function domainSeparator(bytes32 networkId) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(DOMAIN_NAME)), keccak256(bytes(DOMAIN_VERSION)), networkId)
        );
    }

    function typedDigest(bytes32 domain, bytes32 structHash) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let free := mload(0x40)
            mstore(free, hex"1901")
            mstore(add(free, 0x02), domain)
            mstore(add(free, 0x22), structHash)
            digest := keccak256(free, 0x42)
        }
    }

    function verdictStructHash(Verdict memory v) internal pure returns (bytes32) {
        if (v.binding != bytes32(0)) return boundVerdictStructHash(v);
        return keccak256(
            abi.encode(
                VERDICT_TYPEHASH,
                v.candidateId,
                v.chainId,
                v.target,
                v.codehash,
                v.outcome,
                v.policyHash,
                v.reasons,
                v.findingsDigest,
                v.issuedAt,
                v.expiresAt
            )
        );
    }

    function boundVerdictStructHash(Verdict memory v) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                BOUND_VERDICT_TYPEHASH,
                v.candidateId,
                v.chainId,
                v.target,
                v.codehash,
                v.outcome,
                v.policyHash,
                v.reasons,
                v.findingsDigest,
                v.issuedAt,
                v.expiresAt,
                v.binding
            )
        );
    }

    function rotationStructHash(uint32 setIndex, bytes32 keysHash, uint16 threshold) internal pure returns (bytes32) {
        return keccak256(abi.encode(ROTATION_TYPEHASH, setIndex, keysHash, threshold));
    }

    function proofOfPossessionStructHash(bytes32 pubkeyHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(PROOF_OF_POSSESSION_TYPEHASH, pubkeyHash));
    }
}
