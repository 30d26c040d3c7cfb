// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ISentinelRegistry} from "../interfaces/ISentinelRegistry.sol";

/// @title UUPS upgrades that also need the Sentinel network's approval.
/// @notice Inherit instead of UUPSUpgradeable and implement `_authorizeUpgrader` with the
/// protocol's own access control. An upgrade then needs both: the protocol's authority says
/// who may upgrade, the registry says to which code.
/// @dev The check lives in `_authorizeUpgrade`, which OZ calls from `upgradeToAndCall` while
/// delegatecalled by the proxy, so `address(this)` is the proxy: the approval is bound to
/// this proxy on this chain, never to the implementation address or another deployment.
/// This guard covers the UUPS upgrade path only. An implementation can still move its own
/// ERC-1967 slot some other way (a custom function calling ERC1967Utils, an override of the
/// virtual `upgradeToAndCall`, a delegatecall); seeing that is the network's analysis of the
/// code before it approves, which is why every new implementation must itself be approved.
abstract contract SentinelGuardedUUPS is UUPSUpgradeable {
    /// @notice The registry consulted on every upgrade away from this implementation.
    /// @dev Immutable, so it is part of this implementation's code, not of proxy storage:
    /// each implementation names the registry that guards the next upgrade, and a change of
    /// registry is itself an upgrade the current registry must approve (the approved codehash
    /// commits to the new address). Nothing in storage can redirect it.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    ISentinelRegistry public immutable SENTINEL_REGISTRY;

    /// @notice The registry has no current approval of `codehash` for this proxy on this chain.
    error UpgradeNotApproved(address implementation, bytes32 codehash);
    /// @notice A registry without code would make every future upgrade revert, for good.
    error InvalidSentinelRegistry(address registry);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) {
        if (address(registry).code.length == 0) revert InvalidSentinelRegistry(address(registry));
        SENTINEL_REGISTRY = registry;
    }

    /// @dev Deliberately not virtual: a protocol cannot override the registry check away, only
    /// supply its access control through `_authorizeUpgrader`. That hook runs first so an
    /// unauthorised caller learns nothing from, and spends nothing on, the registry call.
    /// The codehash is read now, in the upgrading transaction, so the approved code is exactly
    /// the code the proxy will run.
    function _authorizeUpgrade(address newImplementation) internal override {
        _authorizeUpgrader();
        bytes32 codehash = newImplementation.codehash;
        if (!SENTINEL_REGISTRY.isApproved(block.chainid, address(this), codehash)) {
            revert UpgradeNotApproved(newImplementation, codehash);
        }
    }

    /// @notice The protocol's own upgrade authority (e.g. `onlyOwner`); revert to refuse.
    /// @dev Without it the registry check alone would let anyone perform an approved upgrade.
    function _authorizeUpgrader() internal virtual;
}
