// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BLS} from "./BLS.sol";

/// @title A validator set's BLS public keys, kept as contract code.
/// @notice Reading a key from code costs ~110 gas (one EXTCODECOPY) against ~8,400 from cold
/// storage, which is what keeps verification under 1,000 gas per absent signer.
/// Blob layout (runtime code): 0x00 (STOP, so calling it does nothing) || aggregate || -key_0 ||
/// ... || -key_{n-1}. Keys are stored negated, so taking an absent signer out of the aggregate
/// is one G1ADD. Each point is a 112-byte record x || 16 zero bytes || y (48-byte big-endian
/// coordinates): the EIP-2537 G1 encoding without its first 16 zero bytes, so one copy lands a
/// point ready for G1ADD. EIP-170's 24,576-byte code limit then bounds a set at 218 keys.
library ValidatorKeys {
    /// @notice Keys enter and leave the registry as 96 raw bytes: x || y.
    uint256 internal constant RAW_KEY_LENGTH = 96;
    uint256 internal constant MAX_KEYS = 218;

    uint256 private constant RECORD_LENGTH = 112;
    /// @dev Offset of key 0: the STOP byte, then the aggregate's record.
    uint256 private constant FIRST_KEY = 113;

    uint256 private constant G1ADD = 0x0b;

    // Index of a lone set bit b in one multiply and one lookup, whatever its position:
    // the top byte of b * DE_BRUIJN (a binary de Bruijn sequence of order 8, starting with eight
    // zeros) is distinct for each of the 256 positions, and the table maps it back.
    uint256 private constant DE_BRUIJN = 0x00818283848586878898a8b8c8d8e8f929395969799a9b9d9e9faaeb6bedeeff;
    bytes private constant DE_BRUIJN_TABLE =
        hex"0001020903110a19042112290b311a3905412245134d2a550c5d32651b6d3a7506264262237d468514804e8d2b95569d0d495ea533a966b11c886eb93bc176c9071727374353637324837e9b47af86c7155181ad4fd18ed32c9096db57d59ee30e2e4a6a5f92a6be3498aae067ddb2eb1d5989b56fd7baf33ca0c2ee77e5caf7ff0810182028303840444c545c646c7425617c847f8c949c48a4a8b087b8c0c816365272829aaec650acd0d28fdad4e22d6991bd97dfdcea58b4d6f29fede4f6fe0f1f2f3f4b5b6b607b8b93a3a7b7bf357199c5abcfd9e168bcdee9b3f1ecf5fd1e3e5a7a8aa2b670c4ced8bbe8f0f4fc3d79a1c3cde7effb78cce6facbf9f8";

    error KeyBlobDeploymentFailed();

    /// @notice Deploys the blob for `keys` (n * 96 raw bytes) with their precomputed aggregate.
    function store(bytes memory keys, bytes memory aggregateRaw) internal returns (address blob) {
        uint256 count = keys.length / RAW_KEY_LENGTH;
        bytes memory runtime = new bytes(1 + (count + 1) * RECORD_LENGTH);
        _writeRecord(runtime, 1, aggregateRaw, 0, false);
        for (uint256 i = 0; i < count; i++) {
            _writeRecord(runtime, FIRST_KEY + i * RECORD_LENGTH, keys, i * RAW_KEY_LENGTH, true);
        }
        // Creation code: PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
        bytes memory creation = abi.encodePacked(hex"61", uint16(runtime.length), hex"80600a3d393df3", runtime);
        assembly ("memory-safe") {
            blob := create(0, add(creation, 0x20), mload(creation))
        }
        if (blob == address(0)) revert KeyBlobDeploymentFailed();
    }

    /// @dev new bytes() is zeroed, so only x and y are written; the 16-byte gap stays zero.
    function _writeRecord(bytes memory runtime, uint256 start, bytes memory raw, uint256 from, bool negate)
        private
        pure
    {
        uint256 record;
        assembly ("memory-safe") {
            record := add(add(runtime, 0x20), start)
            let src := add(add(raw, 0x20), from)
            mcopy(record, src, 0x30)
            mcopy(add(record, 0x40), add(src, 0x30), 0x30)
        }
        if (negate) _negateRecord(record);
    }

    /// @dev (x, y) -> (x, p - y) for the record at memory `record` (y = 0 never occurs: only
    /// infinity has it in G1, and sets hold no infinity). y's padded encoding starts at
    /// record + 0x30: x's last 16 bytes || y's high 16 bytes, then y's low 32 bytes.
    function _negateRecord(uint256 record) private pure {
        (uint256 pHi, uint256 pLo) = (BLS.P_HI, BLS.P_LO);
        assembly ("memory-safe") {
            let y := add(record, 0x30)
            let hiWord := mload(y)
            let yHi := and(hiWord, 0xffffffffffffffffffffffffffffffff)
            let yLo := mload(add(y, 0x20))
            mstore(add(y, 0x20), sub(pLo, yLo))
            let negHi := sub(sub(pHi, yHi), lt(pLo, yLo))
            mstore(y, or(and(hiWord, not(0xffffffffffffffffffffffffffffffff)), negHi))
        }
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
    /// the stored aggregate plus every absent signer's stored negated key, so only absent
    /// signers cost gas, each the same: one EXTCODECOPY and one G1ADD.
    /// @return ok False if a G1ADD failed (never for a blob this library wrote).
    /// @return pubkey 128-byte EIP-2537 G1 point (infinity if absent keys cancel the rest).
    function aggregateOf(address blob, uint256 size, uint256 signers)
        internal
        view
        returns (bool ok, bytes memory pubkey)
    {
        bytes memory table = DE_BRUIJN_TABLE;
        pubkey = new bytes(128);
        ok = true;
        assembly ("memory-safe") {
            // acc is pubkey's 128 bytes; operand is the free memory right after it, so G1ADD reads
            // acc || operand in place. A 112-byte record copy fills a point's encoding but its
            // first 16 bytes, which stay zero.
            let acc := add(pubkey, 0x20)
            let operand := add(acc, 0x80)
            mstore(operand, 0)
            extcodecopy(blob, add(acc, 0x10), 1, RECORD_LENGTH)
            let lookup := add(table, 0x20)
            for { let absent := and(not(signers), sub(shl(size, 1), 1)) } absent {} {
                let lowest := and(absent, sub(0, absent))
                absent := xor(absent, lowest)
                let index := shr(248, mload(add(lookup, shr(248, mul(lowest, DE_BRUIJN)))))
                extcodecopy(blob, add(operand, 0x10), add(FIRST_KEY, mul(index, RECORD_LENGTH)), RECORD_LENGTH)
                ok := and(ok, staticcall(gas(), G1ADD, acc, 0x100, acc, 0x80))
            }
        }
    }

    /// @notice The set's keys as n * 96 raw bytes (x || y, not negated), for off-chain readers.
    function readAll(address blob, uint256 size) internal view returns (bytes memory raw) {
        bytes memory records = new bytes(size * RECORD_LENGTH);
        assembly ("memory-safe") {
            extcodecopy(blob, add(records, 0x20), FIRST_KEY, mload(records))
        }
        raw = new bytes(size * RAW_KEY_LENGTH);
        for (uint256 i = 0; i < size; i++) {
            uint256 record;
            assembly ("memory-safe") {
                record := add(add(records, 0x20), mul(i, RECORD_LENGTH))
            }
            // Negating a stored (negated) record gives the key back.
            _negateRecord(record);
            assembly ("memory-safe") {
                let src := record
                let dst := add(add(raw, 0x20), mul(i, RAW_KEY_LENGTH))
                mcopy(dst, src, 0x30)
                mcopy(add(dst, 0x30), add(src, 0x40), 0x30)
            }
        }
    }
}
