// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {SentinelTypes} from "../lib/SentinelTypes.sol";

/// @notice What the guardian needs of the protocol it protects.
interface IPausableByGuardian {
    /// @notice Pauses the protocol; must accept calls from this guardian.
    function pause() external;
    function paused() external view returns (bool);
    /// @notice The implementation the proxy runs now (its ERC-1967 implementation slot).
    function implementation() external view returns (address);
}

/// @notice The registry's record for one subject, as SentinelRegistry.decisionOf returns it.
interface ISentinelDecisions {
    struct Decision {
        uint8 outcome;
        uint32 setIndex;
        uint64 recordedAt;
        uint64 issuedAt;
        uint64 expiresAt;
    }

    function decisionOf(uint256 chainId, address target, bytes32 codehash) external view returns (Decision memory);
}

/// @title Example: a pause-only guardian driven by Sentinel revocations.
/// @notice Anyone may call `pauseOnRevocation()`: it pauses the target if and only if the
/// registry records a revocation of the code the target runs now. It can never unpause; that
/// stays with the protocol's own authority, once it has dealt with the breach.
/// @dev It asks for a recorded revoke, not merely "not approved": approvals expire, and an
/// expired approval of live code is no reason to stop a protocol. It reads the live
/// implementation from the target itself, so a revocation of code the proxy no longer runs (an
/// old version) cannot be used to pause it.
contract PauseGuardian {
    ISentinelDecisions public immutable REGISTRY;
    IPausableByGuardian public immutable TARGET;

    event PausedOnRevocation(address indexed target, address implementation, bytes32 codehash, uint64 revokedIssuedAt);

    error NotRevoked(address implementation, bytes32 codehash, uint8 outcome);
    error AlreadyPaused();

    constructor(ISentinelDecisions registry, IPausableByGuardian target) {
        REGISTRY = registry;
        TARGET = target;
    }

    /// @notice Pauses the target when its current code is revoked; reverts otherwise.
    function pauseOnRevocation() external {
        if (TARGET.paused()) revert AlreadyPaused();
        address implementation = TARGET.implementation();
        bytes32 codehash = implementation.codehash;
        ISentinelDecisions.Decision memory decision = REGISTRY.decisionOf(block.chainid, address(TARGET), codehash);
        if (decision.outcome != SentinelTypes.OUTCOME_REVOKE) revert NotRevoked(implementation, codehash, decision.outcome);
        TARGET.pause();
        emit PausedOnRevocation(address(TARGET), implementation, codehash, decision.issuedAt);
    }

    /// @notice Whether `pauseOnRevocation()` would pause now (for keepers deciding to call it).
    function shouldPause() external view returns (bool) {
        if (TARGET.paused()) return false;
        bytes32 codehash = TARGET.implementation().codehash;
        return REGISTRY.decisionOf(block.chainid, address(TARGET), codehash).outcome == SentinelTypes.OUTCOME_REVOKE;
    }
}
