// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BLS} from "../lib/BLS.sol";

/// @dev Exposes the BLS library's internal functions to tests and benchmarks.
contract BLSHarness {
    function hashToG2(bytes memory message, bytes memory dst) external view returns (bytes memory) {
        return BLS.hashToG2(message, dst);
    }

    function verify(bytes memory pubkey, bytes memory message, bytes memory signature) external view returns (bool) {
        return BLS.verify(pubkey, message, signature);
    }
}
