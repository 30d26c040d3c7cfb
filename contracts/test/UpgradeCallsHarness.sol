// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {UpgradeCalls} from "../guards/UpgradeCalls.sol";

/// @title Test fixture: exposes the internal UpgradeCalls.parse to eth_call.
contract UpgradeCallsHarness {
    function parse(address target, bytes calldata data)
        external
        pure
        returns (bool isUpgrade, address proxy, address implementation)
    {
        return UpgradeCalls.parse(target, data);
    }
}
