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
/// An approval bound to an operation id (the network's verdict names this timelock's
/// `hashOperation`/`hashOperationBatch` of one operation) lets only that operation execute the
/// upgrade; an unbound approval lets any operation execute it.
/// @dev Only direct upgrade calls are recognised (see UpgradeCalls): the timelock's proposers
/// are still trusted not to hand proxy ownership to an unguarded account.
contract SentinelTimelockController is TimelockController {
    /// @notice The registry consulted at execution. Immutable: pointing the timelock at a
    /// different registry means deploying a new timelock and moving ownership to it.
    ISentinelRegistry public immutable SENTINEL_REGISTRY;

    /// @dev The id of the operation whose calls `_execute` is running. OZ computes the id in
    /// `execute` but does not pass it down, so the overrides below keep it here for the
    /// duration of the call (transient: never left behind in storage).
    bytes32 private transient _executing;

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

    function execute(address target, uint256 value, bytes calldata payload, bytes32 predecessor, bytes32 salt)
        public
        payable
        override
    {
        // Saved and restored: an executed call may re-enter to execute another ready operation.
        bytes32 outer = _executing;
        _executing = hashOperation(target, value, payload, predecessor, salt);
        super.execute(target, value, payload, predecessor, salt);
        _executing = outer;
    }

    function executeBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) public payable override {
        bytes32 outer = _executing;
        _executing = hashOperationBatch(targets, values, payloads, predecessor, salt);
        super.executeBatch(targets, values, payloads, predecessor, salt);
        _executing = outer;
    }

    /// @dev Both `execute` and `executeBatch` run each call through here. Not virtual, so a
    /// derived timelock cannot drop the check. The codehash is read at execution, in the same
    /// transaction as the upgrade, so the approved code is the code installed.
    function _execute(address target, uint256 value, bytes calldata data) internal override {
        (bool isUpgrade, address proxy, address implementation) = UpgradeCalls.parse(target, data);
        if (isUpgrade) {
            if (implementation == address(0)) revert UpgradeNotApproved(address(0), address(0), bytes32(0));
            bytes32 codehash = implementation.codehash;
            if (!SENTINEL_REGISTRY.isApprovedFor(block.chainid, proxy, codehash, _executing)) {
                revert UpgradeNotApproved(proxy, implementation, codehash);
            }
        }
        super._execute(target, value, data);
    }
}
