// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title BLS12-381 signatures on the EIP-2537 precompiles.
/// @notice Minimal-pubkey-size variant: public keys in G1 (128-byte EIP-2537 encoding),
/// signatures in G2 (256 bytes), hash-to-G2 per RFC 9380 with the Ethereum proof-of-possession
/// ciphersuite DST, so signatures made by standard Ethereum BLS tooling (blst) verify here.
/// @dev EIP-2537 encodings: an Fp element is 64 bytes (16 zero bytes, then the 48-byte big-endian
/// value); G1 = x || y; G2 = x.c0 || x.c1 || y.c0 || y.c1; the point at infinity is all zeros.
library BLS {
    /// @notice Ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_ (the one Ethereum uses).
    bytes internal constant SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    uint256 internal constant G1_POINT_LENGTH = 128;
    uint256 internal constant G2_POINT_LENGTH = 256;

    // EIP-2537 precompile addresses, final (Prague).
    uint256 private constant G1ADD = 0x0b;
    uint256 private constant G2ADD = 0x0d;
    uint256 private constant PAIRING_CHECK = 0x0f;
    uint256 private constant MAP_FP2_TO_G2 = 0x11;
    uint256 private constant SHA256 = 0x02;
    uint256 private constant MODEXP = 0x05;

    // Field modulus p, split into the two 32-byte words of its 64-byte padded encoding.
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    // -G1 generator: x, p - y. Pairing with it turns e(pk,H)==e(g1,sig) into one product check.
    uint256 private constant G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant G1_NEG_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 private constant G1_NEG_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    /// @notice RFC 9380 allows a DST of at most 255 bytes (its length is one byte of DST_prime).
    error DstTooLong();
    /// @notice A precompile failed on input this library built itself; never expected on a Prague chain.
    error PrecompileFailed();

    /// @notice Outcome of a pairing check, telling a bad signature from a malformed point.
    enum PairingResult {
        Valid,
        Invalid,
        MalformedPoint
    }

    /// @notice hash_to_curve for BLS12381G2_XMD:SHA-256_SSWU_RO_ (RFC 9380 §3, §5.3.1, §5.2).
    /// @return point The 256-byte EIP-2537 encoding of the G2 point.
    function hashToG2(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        uint256 dstLength = dst.length;
        if (dstLength > 255) revert DstTooLong();
        bool ok = true;
        assembly ("memory-safe") {
            let free := mload(0x40)
            // expand_message_xmd with len_in_bytes = 256 (two Fp2 elements, 64 bytes per Fp):
            // b_0 = H(Z_pad || msg || I2OSP(256, 2) || I2OSP(0, 1) || DST || I2OSP(len(DST), 1))
            let messageLength := mload(message)
            mstore(free, 0)
            mstore(add(free, 0x20), 0)
            mcopy(add(free, 0x40), add(message, 0x20), messageLength)
            let cursor := add(add(free, 0x40), messageLength)
            mstore8(cursor, 0x01)
            mstore8(add(cursor, 1), 0x00)
            mstore8(add(cursor, 2), 0x00)
            mcopy(add(cursor, 3), add(dst, 0x20), dstLength)
            mstore8(add(add(cursor, 3), dstLength), dstLength)
            let preimageLength := add(add(0x44, messageLength), dstLength)
            let b0Slot := add(free, preimageLength)
            ok := and(ok, staticcall(gas(), SHA256, free, preimageLength, b0Slot, 0x20))
            let b0 := mload(b0Slot)

            // b_i = H((b_0 xor b_{i-1}) || I2OSP(i, 1) || DST_prime); the buffer is shorter than
            // the b_0 preimage, so it reuses that memory without reaching b0Slot.
            mcopy(add(free, 0x21), add(dst, 0x20), dstLength)
            mstore8(add(add(free, 0x21), dstLength), dstLength)
            let blockInputLength := add(0x22, dstLength)
            let uniform := add(b0Slot, 0x20)
            let previous := 0
            for { let i := 1 } lt(i, 9) { i := add(i, 1) } {
                mstore(free, xor(b0, previous))
                mstore8(add(free, 0x20), i)
                let out := add(uniform, shl(5, sub(i, 1)))
                ok := and(ok, staticcall(gas(), SHA256, free, blockInputLength, out, 0x20))
                previous := mload(out)
            }

            // hash_to_field: four 64-byte chunks, each reduced mod p by MODEXP(chunk, 1, p).
            // The 64-byte output is already the padded EIP-2537 Fp encoding.
            let fields := add(uniform, 0x100)
            let modexpInput := add(fields, 0x100)
            mstore(modexpInput, 0x40)
            mstore(add(modexpInput, 0x20), 0x01)
            mstore(add(modexpInput, 0x40), 0x40)
            mstore8(add(modexpInput, 0xa0), 0x01)
            mstore(add(modexpInput, 0xa1), P_HI)
            mstore(add(modexpInput, 0xc1), P_LO)
            for { let k := 0 } lt(k, 4) { k := add(k, 1) } {
                mcopy(add(modexpInput, 0x60), add(uniform, shl(6, k)), 0x40)
                ok := and(ok, staticcall(gas(), MODEXP, modexpInput, 0xe1, add(fields, shl(6, k)), 0x40))
            }

            // Q0 = map(u0), Q1 = map(u1) (the precompile clears the cofactor), P = Q0 + Q1.
            let q := add(modexpInput, 0x100)
            ok := and(ok, staticcall(gas(), MAP_FP2_TO_G2, fields, 0x80, q, 0x100))
            ok := and(ok, staticcall(gas(), MAP_FP2_TO_G2, add(fields, 0x80), 0x80, add(q, 0x100), 0x100))
            point := add(q, 0x200)
            mstore(point, 0x100)
            ok := and(ok, staticcall(gas(), G2ADD, q, 0x200, add(point, 0x20), 0x100))
            mstore(0x40, add(point, 0x120))
        }
        if (!ok) revert PrecompileFailed();
    }

    /// @notice Verifies a BLS signature (Ethereum POP ciphersuite, minimal-pubkey-size).
    /// @return False for any wrong length, the identity as key or signature, a point off the
    /// curve or outside its subgroup, or a signature that does not match.
    function verify(bytes memory pubkey, bytes memory message, bytes memory signature) internal view returns (bool) {
        if (pubkey.length != G1_POINT_LENGTH || signature.length != G2_POINT_LENGTH) return false;
        if (isInfinity(pubkey) || isInfinity(signature)) return false;
        return checkSignature(pubkey, hashToG2(message, SIGNATURE_DST), signature) == PairingResult.Valid;
    }

    /// @notice e(pubkey, hashedMessage) == e(g1, signature), as one two-pair PAIRING_CHECK.
    /// @dev The precompile rejects points off the curve or outside their subgroup (G1 and G2):
    /// that surfaces as MalformedPoint rather than Invalid. Callers reject infinity beforehand.
    function checkSignature(bytes memory pubkey, bytes memory hashedMessage, bytes memory signature)
        internal
        view
        returns (PairingResult result)
    {
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, add(pubkey, 0x20), 0x80)
            mcopy(add(input, 0x80), add(hashedMessage, 0x20), 0x100)
            mstore(add(input, 0x180), G1_X_HI)
            mstore(add(input, 0x1a0), G1_X_LO)
            mstore(add(input, 0x1c0), G1_NEG_Y_HI)
            mstore(add(input, 0x1e0), G1_NEG_Y_LO)
            mcopy(add(input, 0x200), add(signature, 0x20), 0x100)
            let out := add(input, 0x300)
            switch staticcall(gas(), PAIRING_CHECK, input, 0x300, out, 0x20)
            case 0 { result := 2 }
            default { result := iszero(eq(mload(out), 1)) }
        }
    }

    /// @notice Product check for n distinct-message signatures aggregated into one:
    /// prod e(pubkeys[i], hashedMessages[i]) == e(g1, aggregateSignature).
    /// @dev Sound against rogue keys only when every message is distinct (IETF BLS Basic
    /// scheme, AggregateVerify); proofs of possession satisfy that because each message
    /// commits to its own public key. `pairs` holds n * 384 bytes of (G1 || G2) pairs.
    function checkAggregate(bytes memory pairs, bytes memory aggregateSignature)
        internal
        view
        returns (PairingResult result)
    {
        assembly ("memory-safe") {
            let n := mload(pairs)
            let input := mload(0x40)
            mcopy(input, add(pairs, 0x20), n)
            let tail := add(input, n)
            mstore(tail, G1_X_HI)
            mstore(add(tail, 0x20), G1_X_LO)
            mstore(add(tail, 0x40), G1_NEG_Y_HI)
            mstore(add(tail, 0x60), G1_NEG_Y_LO)
            mcopy(add(tail, 0x80), add(aggregateSignature, 0x20), 0x100)
            let length := add(n, 0x180)
            let out := add(input, length)
            switch staticcall(gas(), PAIRING_CHECK, input, length, out, 0x20)
            case 0 { result := 2 }
            default { result := iszero(eq(mload(out), 1)) }
        }
    }

    /// @notice a + b in G1 with G1ADD. Fails (ok = false) when either point is not on the curve.
    function g1Add(bytes memory a, bytes memory b) internal view returns (bool ok, bytes memory sum) {
        sum = new bytes(G1_POINT_LENGTH);
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, add(a, 0x20), 0x80)
            mcopy(add(input, 0x80), add(b, 0x20), 0x80)
            ok := staticcall(gas(), G1ADD, input, 0x100, add(sum, 0x20), 0x80)
        }
    }

    /// @notice True when every byte is zero: the EIP-2537 encoding of the point at infinity.
    function isInfinity(bytes memory point) internal pure returns (bool zero) {
        assembly ("memory-safe") {
            let length := mload(point)
            let data := add(point, 0x20)
            let wholeWords := and(length, not(31))
            let acc := 0
            for { let offset := 0 } lt(offset, wholeWords) { offset := add(offset, 0x20) } {
                acc := or(acc, mload(add(data, offset)))
            }
            let remainder := and(length, 31)
            if remainder {
                // Keep only the `remainder` leading bytes of the last, partial word.
                let mask := not(shr(shl(3, remainder), not(0)))
                acc := or(acc, and(mload(add(data, wholeWords)), mask))
            }
            zero := iszero(acc)
        }
    }
}
