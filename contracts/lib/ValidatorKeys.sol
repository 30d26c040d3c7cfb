// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title A validator set's BLS public keys, kept as contract code.
/// @notice Reading a 96-byte key from code costs ~110 gas (EXTCODECOPY) against ~8,400 from
/// cold storage, which is what keeps verification under 1,000 gas per signer.
/// Blob layout (runtime code): 0x00 (STOP, so calling it does nothing) || aggregate || key_0 ||
/// ... || key_{n-1}, each point 96 bytes: x || y, 48 bytes each, big-endian, no padding.
/// With EIP-170's 24,576-byte code limit that bounds a set at 254 keys.
library ValidatorKeys {
    uint256 internal constant RAW_KEY_LENGTH = 96;
    uint256 internal constant MAX_KEYS = 254;

    // Field modulus p in the two words of its padded encoding, to negate a G1 point.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 private constant G1ADD = 0x0b;

    error KeyBlobDeploymentFailed();

    /// @notice Deploys the blob for `keys` (n * 96 bytes) with their precomputed aggregate.
    function store(bytes memory keys, bytes memory aggregateRaw) internal returns (address blob) {
        bytes memory runtime = abi.encodePacked(hex"00", aggregateRaw, keys);
        // Creation code: PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
        bytes memory creation = abi.encodePacked(hex"61", uint16(runtime.length), hex"80600a3d393df3", runtime);
        assembly ("memory-safe") {
            blob := create(0, add(creation, 0x20), mload(creation))
        }
        if (blob == address(0)) revert KeyBlobDeploymentFailed();
    }

    /// @notice Sum of n raw keys with G1ADD. ok = false if any key is not on the curve.
    /// @return ok Whether every addition succeeded.
    /// @return aggregateRaw The sum, 96 raw bytes.
    function sum(bytes memory keys) internal view returns (bool ok, bytes memory aggregateRaw) {
        aggregateRaw = new bytes(RAW_KEY_LENGTH);
        ok = true;
        assembly ("memory-safe") {
            // acc (128 bytes, starts at infinity) || operand (128 bytes); padding stays zero.
            let acc := mload(0x40)
            for { let i := 0 } lt(i, 0x100) { i := add(i, 0x20) } { mstore(add(acc, i), 0) }
            let operand := add(acc, 0x80)
            let count := div(mload(keys), RAW_KEY_LENGTH)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let key := add(add(keys, 0x20), mul(i, RAW_KEY_LENGTH))
                mcopy(add(operand, 0x10), key, 0x30)
                mcopy(add(operand, 0x50), add(key, 0x30), 0x30)
                ok := and(ok, staticcall(gas(), G1ADD, acc, 0x100, acc, 0x80))
            }
            mcopy(add(aggregateRaw, 0x20), add(acc, 0x10), 0x30)
            mcopy(add(aggregateRaw, 0x50), add(acc, 0x50), 0x30)
        }
    }

    /// @notice The aggregate public key of the signers named by `signers`, padded for EIP-2537:
    /// the stored aggregate minus every absent key, so only absent signers cost gas.
    /// @return ok False if a G1ADD failed (never for a blob this library wrote).
    /// @return pubkey 128-byte EIP-2537 G1 point.
    function aggregateOf(address blob, uint256 size, uint256 signers)
        internal
        view
        returns (bool ok, bytes memory pubkey)
    {
        pubkey = new bytes(128);
        ok = true;
        assembly ("memory-safe") {
            let acc := mload(0x40)
            for { let i := 0 } lt(i, 0x100) { i := add(i, 0x20) } { mstore(add(acc, i), 0) }
            let operand := add(acc, 0x80)
            let absent := and(not(signers), sub(shl(size, 1), 1))
            for {} absent {} {
                let lowest := and(absent, sub(0, absent))
                absent := xor(absent, lowest)
                // index = log2(lowest), a binary search over the single set bit.
                let index := shl(7, lt(0xffffffffffffffffffffffffffffffff, lowest))
                index := or(index, shl(6, lt(0xffffffffffffffff, shr(index, lowest))))
                index := or(index, shl(5, lt(0xffffffff, shr(index, lowest))))
                index := or(index, shl(4, lt(0xffff, shr(index, lowest))))
                index := or(index, shl(3, lt(0xff, shr(index, lowest))))
                index := or(index, shl(2, lt(0xf, shr(index, lowest))))
                index := or(index, shl(1, lt(0x3, shr(index, lowest))))
                index := or(index, lt(0x1, shr(index, lowest)))
                // key i sits after the STOP byte and the aggregate: 1 + 96 * (i + 1).
                let offset := add(0x61, mul(index, RAW_KEY_LENGTH))
                extcodecopy(blob, add(operand, 0x10), offset, 0x30)
                extcodecopy(blob, add(operand, 0x50), add(offset, 0x30), 0x30)
                ok := and(ok, staticcall(gas(), G1ADD, acc, 0x100, acc, 0x80))
            }
            let out := add(pubkey, 0x20)
            // The stored aggregate of the whole set.
            extcodecopy(blob, add(out, 0x10), 1, 0x30)
            extcodecopy(blob, add(out, 0x50), 0x31, 0x30)
            let absentSum := or(or(mload(acc), mload(add(acc, 0x20))), or(mload(add(acc, 0x40)), mload(add(acc, 0x60))))
            // Absent keys that cancel out sum to infinity, which has no negation to add.
            if absentSum {
                // -(x, y) = (x, p - y), on the two words of the padded y.
                let yHi := mload(add(acc, 0x40))
                let yLo := mload(add(acc, 0x60))
                mstore(add(acc, 0x60), sub(P_LO, yLo))
                mstore(add(acc, 0x40), sub(sub(P_HI, yHi), lt(P_LO, yLo)))
                mcopy(add(acc, 0x80), out, 0x80)
                ok := and(ok, staticcall(gas(), G1ADD, acc, 0x100, out, 0x80))
            }
        }
    }

    /// @notice The set's keys as stored (n * 96 raw bytes), for off-chain readers.
    function readAll(address blob, uint256 size) internal view returns (bytes memory raw) {
        raw = new bytes(size * RAW_KEY_LENGTH);
        assembly ("memory-safe") {
            extcodecopy(blob, add(raw, 0x20), 0x61, mload(raw))
        }
    }
}
