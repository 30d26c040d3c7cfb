// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {ISentinelRegistry} from "../interfaces/ISentinelRegistry.sol";
import {SentinelGuardedUUPS} from "../guards/SentinelGuardedUUPS.sol";

/// @title Test fixture: a guarded vault a pause-only guardian protects (revocation scenario).
contract PausableGuardedVaultV1 is OwnableUpgradeable, PausableUpgradeable, SentinelGuardedUUPS {
    uint256 public value;
    address public guardian;

    error NotGuardian(address caller);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) SentinelGuardedUUPS(registry) {
        _disableInitializers();
    }

    function initialize(address owner, uint256 initialValue) public initializer {
        __Ownable_init(owner);
        __Pausable_init();
        value = initialValue;
    }

    function setGuardian(address newGuardian) external onlyOwner {
        guardian = newGuardian;
    }

    /// @notice The guardian or the owner may pause; only the owner unpauses.
    function pause() external {
        if (msg.sender != guardian && msg.sender != owner()) revert NotGuardian(msg.sender);
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    function implementation() external view returns (address) {
        return ERC1967Utils.getImplementation();
    }

    function version() external pure virtual returns (uint256) {
        return 1;
    }

    function _authorizeUpgrader() internal view override onlyOwner {}
}

/// @title Test fixture: the next version, with a way to move `value` (past the policy's cap).
contract PausableGuardedVaultV2 is PausableGuardedVaultV1 {
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) PausableGuardedVaultV1(registry) {}

    function version() external pure override returns (uint256) {
        return 2;
    }

    function increment() external onlyOwner whenNotPaused {
        value += 1;
    }
}
