// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SentinelRegistry} from "../SentinelRegistry.sol";

/// @notice Never deployed. Run as the constructor of an eth_call that has no `to` (a deployless
/// read), it answers in one round trip what admission otherwise asks in two: the target's
/// `owner()` and the enrollment that owner made in the registry. Its "deployed code" is the
/// answer: abi.encode(uint256 codeSize, bool hasOwner, address owner, bytes32 policyHash,
/// uint64 enrolledAt, address[] proposers). `hasOwner` is false when owner() reverts or returns less than a word,
/// as `resolveUpgradeAuthority` reads it; the enrollment is empty unless an owner answered.
contract EnrollmentLens {
    constructor(SentinelRegistry registry, address target) {
        uint256 codeSize = target.code.length;
        (bool ok, bytes memory answer) = target.staticcall(abi.encodeWithSignature("owner()"));
        bool hasOwner = codeSize > 0 && ok && answer.length >= 32;
        address owner = hasOwner ? abi.decode(answer, (address)) : address(0);
        SentinelRegistry.Enrollment memory entry;
        if (owner != address(0)) entry = registry.enrollment(target, owner);
        bytes memory result = abi.encode(codeSize, hasOwner, owner, entry.policyHash, entry.enrolledAt, entry.proposers);
        assembly {
            return(add(result, 32), mload(result))
        }
    }
}
