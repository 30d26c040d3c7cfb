// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev Measures what a contract pays to call another one: the gasleft() delta around a
/// staticcall, cold account access and calldata copy included. Used by scripts/bench-gas.ts.
contract GasProbe {
    function measure(address target, bytes calldata data) external view returns (uint256 gasUsed, bool ok, bytes memory result) {
        bytes memory input = data;
        uint256 before = gasleft();
        (ok, result) = target.staticcall(input);
        gasUsed = before - gasleft();
    }
}
