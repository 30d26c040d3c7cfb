// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ISentinelRegistry} from "../interfaces/ISentinelRegistry.sol";
import {GuardedVaultV1} from "./GuardedVault.sol";

/// @title Test fixture: a malicious upgrade. Same layout as V1, plus a function anyone can call
/// that sends the vault's ether away with SELFDESTRUCT.
contract DrainableVault is GuardedVaultV1 {
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) GuardedVaultV1(registry) {}

    function version() external pure override returns (uint256) {
        return 666;
    }

    function sweep(address payable to) external {
        assembly {
            selfdestruct(to)
        }
    }
}
