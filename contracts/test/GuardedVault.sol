// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {ISentinelRegistry} from "../interfaces/ISentinelRegistry.sol";
import {SentinelGuardedUUPS} from "../guards/SentinelGuardedUUPS.sol";

/// @title Test fixture: a protocol that adopted SentinelGuardedUUPS behind an owner.
contract GuardedVaultV1 is OwnableUpgradeable, SentinelGuardedUUPS {
    uint256 public value;

    /// @dev Implementations are never initialised themselves, only through a proxy.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) SentinelGuardedUUPS(registry) {
        _disableInitializers();
    }

    function initialize(address owner, uint256 initialValue) public initializer {
        __Ownable_init(owner);
        value = initialValue;
    }

    function version() external pure virtual returns (uint256) {
        return 1;
    }

    /// @dev The protocol's own authority still decides who may upgrade.
    function _authorizeUpgrader() internal view override onlyOwner {}
}

/// @title Test fixture: the next version, same storage layout plus one function.
contract GuardedVaultV2 is GuardedVaultV1 {
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) GuardedVaultV1(registry) {}

    function version() external pure override returns (uint256) {
        return 2;
    }

    function increment() external onlyOwner {
        value += 1;
    }
}
