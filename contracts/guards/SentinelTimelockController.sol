// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ISentinelRegistry} from "../interfaces/ISentinelRegistry.sol";
import {UpgradeCalls} from "./UpgradeCalls.sol";

/// @title An OZ TimelockController that executes an upgrade only once Sentinel approved it.
/// @notice For protocols whose proxies (UUPS, transparent via ProxyAdmin, beacons) are owned by
/// a timelock and whose implementations cannot be changed to call the registry themselves.
/// Scheduling is unchanged, so an operation may be scheduled before the network has reviewed
/// it; only execution waits for the approval. An operation refused at execution stays pending
/// and can be executed again once the approval is recorded.
/// @dev Only direct upgrade calls are recognised (see UpgradeCalls): the timelock's proposers
/// are still trusted not to hand proxy ownership to an unguarded account.
contract SentinelTimelockController is TimelockController {
    /// @notice The registry consulted at execution. Immutable: pointing the timelock at a
    /// different registry means deploying a new timelock and moving ownership to it.
    ISentinelRegistry public immutable SENTINEL_REGISTRY;

    /// @notice The registry has no current approval of `codehash` for `proxy` on this chain.
    /// All fields are zero when the upgrade calldata was malformed.
    error UpgradeNotApproved(address proxy, address implementation, bytes32 codehash);
    /// @notice A registry without code would make every upgrade through this timelock revert.
    error InvalidSentinelRegistry(address registry);

    constructor(
        ISentinelRegistry registry,
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {
        if (address(registry).code.length == 0) revert InvalidSentinelRegistry(address(registry));
        SENTINEL_REGISTRY = registry;
    }

    /// @dev Both `execute` and `executeBatch` run each call through here. Not virtual, so a
    /// derived timelock cannot drop the check. The codehash is read at execution, in the same
    /// transaction as the upgrade, so the approved code is the code installed.
    function _execute(address target, uint256 value, bytes calldata data) internal override {
        (bool isUpgrade, address proxy, address implementation) = UpgradeCalls.parse(target, data);
        if (isUpgrade) {
            if (implementation == address(0)) revert UpgradeNotApproved(address(0), address(0), bytes32(0));
            bytes32 codehash = implementation.codehash;
            if (!SENTINEL_REGISTRY.isApproved(block.chainid, proxy, codehash)) {
                revert UpgradeNotApproved(proxy, implementation, codehash);
            }
        }
        super._execute(target, value, data);
    }
}
