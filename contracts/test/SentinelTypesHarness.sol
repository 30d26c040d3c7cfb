// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {SentinelTypes} from "../lib/SentinelTypes.sol";

/// @dev Exposes the Solidity side of the EIP-712 definitions so a test can compare them with
/// src/codec/types.ts.
contract SentinelTypesHarness {
    function typeStrings()
        external
        pure
        returns (string memory, string memory, string memory, string memory, string memory)
    {
        return (
            string(SentinelTypes.DOMAIN_TYPE),
            string(SentinelTypes.VERDICT_TYPE),
            string(SentinelTypes.ROTATION_TYPE),
            string(SentinelTypes.PROOF_OF_POSSESSION_TYPE),
            string(SentinelTypes.BOUND_VERDICT_TYPE)
        );
    }

    function verdictDigest(bytes32 networkId, SentinelTypes.Verdict memory verdict) external pure returns (bytes32) {
        return SentinelTypes.typedDigest(SentinelTypes.domainSeparator(networkId), SentinelTypes.verdictStructHash(verdict));
    }
}
