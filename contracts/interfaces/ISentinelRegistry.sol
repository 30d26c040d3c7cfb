// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title What protocols, guards and bridges call on the Sentinel registry.
interface ISentinelRegistry {
    /// @notice True when the network approved `codehash` as the implementation of `target` on
    /// chain `chainId`, the approval has not expired, and no later reject or revoke replaced it.
    /// An approval bound to one operation (a TimelockController operation id, a Safe transaction
    /// hash) is not an approval here: only `isApprovedFor` with that operation sees it.
    function isApproved(uint256 chainId, address target, bytes32 codehash) external view returns (bool);

    /// @notice As `isApproved`, for a guard that executes the upgrade as part of `operation`:
    /// true for a current unbound approval, or one bound to exactly `operation`.
    function isApprovedFor(uint256 chainId, address target, bytes32 codehash, bytes32 operation)
        external
        view
        returns (bool);

    /// @notice Stateless check of an attestation against this registry's validator sets:
    /// true if it is signed by at least the threshold of a live set of this network.
    /// Reverts with a named error when the attestation is malformed; false when it is
    /// well-formed but its aggregate signature does not verify.
    function verifyAttestation(bytes calldata attestation) external view returns (bool);
}
