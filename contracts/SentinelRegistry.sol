// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ISentinelRegistry} from "./interfaces/ISentinelRegistry.sol";
import {Attestation} from "./lib/Attestation.sol";
import {BLS} from "./lib/BLS.sol";
import {SentinelTypes} from "./lib/SentinelTypes.sol";
import {ValidatorKeys} from "./lib/ValidatorKeys.sol";

/// @title Sentinel registry: where the network's verdicts become enforceable on one chain.
/// @notice Holds the validator sets (BLS12-381 keys admitted with proofs of possession),
/// verifies aggregate-signed attestations with the EIP-2537 precompiles, records verdicts per
/// (chain id, target, implementation code hash), and keeps protocols' enrollments.
contract SentinelRegistry is ISentinelRegistry {
    struct ValidatorSet {
        address keys; // ValidatorKeys blob
        uint16 size;
        uint16 threshold;
        uint64 validUntil; // type(uint64).max while current; rotation sets it to now + grace
    }

    struct PendingSet {
        address keys;
        uint16 size;
        uint16 threshold;
        uint16 admitted; // keys whose proof of possession has been verified, in order
        uint32 index;
        bytes32 keysHash;
    }

    struct Decision {
        uint8 outcome; // 0 none, then SentinelTypes.OUTCOME_*
        uint32 setIndex;
        uint64 recordedAt;
        uint64 issuedAt;
        uint64 expiresAt;
        /// @dev True when the verdict was bound to one operation (its binding in `_bindings`).
        /// A flag in the decision's slot, so an unbound verdict costs no second slot.
        bool bound;
    }

    struct Enrollment {
        bytes32 policyHash;
        uint64 enrolledAt;
        address[] proposers;
    }

    /// @notice Bounds what one enrollment costs to store and to read.
    uint256 public constant MAX_PROPOSERS = 32;
    /// @notice How far a verdict's issue time may run ahead of this chain's clock. Verdicts are
    /// ordered by issue time, so one dated far ahead would outrank every later revoke; the
    /// allowance covers node clocks ahead of a chain whose blocks lag (L2 timestamps, slow blocks).
    uint64 public constant MAX_CLOCK_SKEW = 15 minutes;

    bytes32 public immutable NETWORK_ID;
    bytes32 public immutable DOMAIN_SEPARATOR;
    /// @notice How long a replaced validator set keeps verifying verdicts (never rotations).
    uint64 public immutable ROTATION_GRACE_PERIOD;

    uint32 public currentSetIndex;
    bool public hasActiveSet;
    mapping(uint32 index => ValidatorSet) private _sets;
    PendingSet private _pending;

    mapping(bytes32 digest => bool) public isRecorded;
    mapping(bytes32 subject => Decision) private _decisions;
    /// @dev Read only while the subject's decision is `bound`; a stale entry under an unbound
    /// decision is never consulted.
    mapping(bytes32 subject => bytes32 binding) private _bindings;
    mapping(address target => mapping(address authority => Enrollment)) private _enrollments;

    event ValidatorSetProposed(uint32 indexed index, bytes32 keysHash, uint16 size, uint16 threshold);
    event ValidatorKeysAdmitted(uint32 indexed index, uint16 admitted, uint16 size);
    event ValidatorSetActivated(uint32 indexed index, uint32 previousIndex, uint64 previousValidUntil);
    event VerdictRecorded(
        bytes32 indexed digest,
        uint256 indexed chainId,
        address indexed target,
        bytes32 codehash,
        uint8 outcome,
        uint32 setIndex,
        bytes32 candidateId,
        bytes32 policyHash,
        uint256 reasons,
        bytes32 findingsDigest,
        uint64 expiresAt
    );
    /// @notice The verdict recorded with `digest` is bound to one operation: a TimelockController
    /// operation id or a Safe transaction hash (see `isApprovedFor`).
    event VerdictBound(bytes32 indexed digest, bytes32 binding);
    event Enrolled(address indexed target, address indexed authority, bytes32 policyHash, address[] proposers);

    // Attestation and signature errors.
    error WrongNetwork(bytes32 expected, bytes32 actual);
    error UnknownValidatorSet(uint32 index);
    error ValidatorSetExpired(uint32 index, uint64 validUntil);
    error NoActiveValidatorSet();
    error SignerBeyondSetSize(uint256 signers, uint16 size);
    error BelowThreshold(uint256 signed, uint16 threshold);
    error InfinitySignature();
    error InvalidSignaturePoint();
    error InvalidSignature();
    error InvalidOutcome(uint8 outcome);
    error AttestationExpired(uint64 expiresAt);
    error IssuedInFuture(uint64 issuedAt, uint256 latestAllowed);
    error AlreadyRecorded(bytes32 digest);
    error StaleVerdict(uint64 issuedAt, uint64 recordedIssuedAt);
    // Validator set errors.
    error InvalidKeysLength(uint256 length);
    error InvalidSetSize(uint256 size);
    error ThresholdOutOfRange(uint16 threshold, uint16 minimum, uint16 size);
    error InfinityKey(uint256 index);
    error DuplicateValidatorKey(uint256 index);
    error UnsortedValidatorKeys(uint256 index);
    error InvalidPublicKey();
    error RotationAlreadyProposed(uint32 index);
    error NoPendingValidatorSet();
    error AdmissionCountOutOfRange(uint256 count, uint256 remaining);
    error InvalidProofOfPossession(uint256 from, uint256 count);
    // Enrollment errors.
    error TooManyProposers(uint256 count);
    error ZeroProposer();

    /// @param networkId the Sentinel network this registry belongs to (EIP-712 salt).
    /// @param rotationGracePeriod seconds a replaced set keeps verifying verdicts.
    /// @param genesisKeys the first set: n * 96 raw bytes, sorted, distinct. It becomes active
    /// once every key's proof of possession is admitted with `admitValidatorKeys`.
    constructor(bytes32 networkId, uint64 rotationGracePeriod, bytes memory genesisKeys, uint16 genesisThreshold) {
        NETWORK_ID = networkId;
        DOMAIN_SEPARATOR = SentinelTypes.domainSeparator(networkId);
        ROTATION_GRACE_PERIOD = rotationGracePeriod;
        _propose(0, genesisKeys, genesisThreshold);
    }

    // ---------------------------------------------------------------- verdicts

    /// @inheritdoc ISentinelRegistry
    function verifyAttestation(bytes calldata attestation) external view returns (bool) {
        (,,, bool valid) = _verify(attestation, false);
        return valid;
    }

    /// @notice Verifies an attestation and records its verdict. Idempotent for relayers: a
    /// recorded digest reverts with AlreadyRecorded before any expensive work.
    function submitAttestation(bytes calldata attestation) external {
        (Attestation.Header memory header, SentinelTypes.Verdict memory verdict, bytes32 digest, bool valid) =
            _verify(attestation, true);
        if (!valid) revert InvalidSignature();
        isRecorded[digest] = true;

        bytes32 subject = _subject(verdict.chainId, verdict.target, verdict.codehash);
        Decision storage recorded = _decisions[subject];
        // Decisions move forward in issue time; at equal time a reject or revoke beats an approval.
        if (recorded.outcome != 0) {
            bool newer = verdict.issuedAt > recorded.issuedAt;
            bool tieWon = verdict.issuedAt == recorded.issuedAt && verdict.outcome != SentinelTypes.OUTCOME_APPROVE
                && recorded.outcome == SentinelTypes.OUTCOME_APPROVE;
            if (!newer && !tieWon) revert StaleVerdict(verdict.issuedAt, recorded.issuedAt);
        }
        _decisions[subject] = Decision({
            outcome: verdict.outcome,
            setIndex: header.setIndex,
            recordedAt: uint64(block.timestamp),
            issuedAt: verdict.issuedAt,
            expiresAt: verdict.expiresAt,
            bound: verdict.binding != bytes32(0)
        });
        if (verdict.binding != bytes32(0)) {
            _bindings[subject] = verdict.binding;
            emit VerdictBound(digest, verdict.binding);
        }
        emit VerdictRecorded(
            digest,
            verdict.chainId,
            verdict.target,
            verdict.codehash,
            verdict.outcome,
            header.setIndex,
            verdict.candidateId,
            verdict.policyHash,
            verdict.reasons,
            verdict.findingsDigest,
            verdict.expiresAt
        );
    }

    /// @inheritdoc ISentinelRegistry
    /// @dev A bound approval answers false here: the caller names no operation, so it cannot be
    /// the one the approval is bound to.
    function isApproved(uint256 chainId, address target, bytes32 codehash) external view returns (bool) {
        Decision storage decision = _decisions[_subject(chainId, target, codehash)];
        return decision.outcome == SentinelTypes.OUTCOME_APPROVE && block.timestamp < decision.expiresAt
            && !decision.bound;
    }

    /// @inheritdoc ISentinelRegistry
    function isApprovedFor(uint256 chainId, address target, bytes32 codehash, bytes32 operation)
        external
        view
        returns (bool)
    {
        bytes32 subject = _subject(chainId, target, codehash);
        Decision storage decision = _decisions[subject];
        if (decision.outcome != SentinelTypes.OUTCOME_APPROVE || block.timestamp >= decision.expiresAt) return false;
        // A zero operation never matches a binding: bindings are never zero.
        return !decision.bound || _bindings[subject] == operation;
    }

    /// @notice The operation the current decision on (chainId, target, codehash) is bound to;
    /// zero when it is unbound or there is none.
    function bindingOf(uint256 chainId, address target, bytes32 codehash) external view returns (bytes32) {
        bytes32 subject = _subject(chainId, target, codehash);
        return _decisions[subject].bound ? _bindings[subject] : bytes32(0);
    }

    function decisionOf(uint256 chainId, address target, bytes32 codehash) external view returns (Decision memory) {
        return _decisions[_subject(chainId, target, codehash)];
    }

    /// @notice The EIP-712 digest validators sign for a verdict on this network.
    function verdictDigest(SentinelTypes.Verdict memory verdict) public view returns (bytes32) {
        return SentinelTypes.typedDigest(DOMAIN_SEPARATOR, SentinelTypes.verdictStructHash(verdict));
    }

    /// @dev Cheap structural checks first, the pairing last. `refuseRecorded` lets a relayer's
    /// duplicate submission fail before the pairing; the stateless check keeps answering.
    function _verify(bytes calldata attestation, bool refuseRecorded)
        private
        view
        returns (Attestation.Header memory header, SentinelTypes.Verdict memory verdict, bytes32 digest, bool valid)
    {
        (header, verdict) = Attestation.decode(attestation);
        if (header.networkId != NETWORK_ID) revert WrongNetwork(NETWORK_ID, header.networkId);
        ValidatorSet memory set = _liveSet(header.setIndex);
        if (verdict.outcome == 0 || verdict.outcome > SentinelTypes.OUTCOME_REVOKE) revert InvalidOutcome(verdict.outcome);
        if (block.timestamp >= verdict.expiresAt) revert AttestationExpired(verdict.expiresAt);
        if (verdict.issuedAt > block.timestamp + MAX_CLOCK_SKEW) {
            revert IssuedInFuture(verdict.issuedAt, block.timestamp + MAX_CLOCK_SKEW);
        }
        digest = verdictDigest(verdict);
        if (refuseRecorded && isRecorded[digest]) revert AlreadyRecorded(digest);
        valid = _checkAggregate(set, header.signers, digest, Attestation.signature(attestation));
    }

    // ---------------------------------------------------------------- validator sets

    /// @notice Proposes set `currentSetIndex + 1`, attested by the current set (never by a set
    /// in its grace period). The new set becomes active once all its keys are admitted.
    /// @param keys n * 96 raw bytes (x || y), strictly ascending, no infinity.
    function proposeValidatorSet(bytes calldata keys, uint16 threshold, uint256 signers, bytes calldata signature)
        external
    {
        if (!hasActiveSet) revert NoActiveValidatorSet();
        uint32 index = currentSetIndex + 1;
        bytes32 keysHash = keccak256(keys);
        if (_pending.keys != address(0) && _pending.index == index && _pending.keysHash == keysHash
                && _pending.threshold == threshold) revert RotationAlreadyProposed(index);
        bytes32 digest = rotationDigest(index, keysHash, threshold);
        if (!_checkAggregate(_sets[currentSetIndex], signers, digest, signature)) revert InvalidSignature();
        _propose(index, keys, threshold);
    }

    /// @notice Verifies the proofs of possession of the next `count` pending keys, as one
    /// aggregate over distinct messages, and activates the set when the last key is admitted.
    /// @param aggregateProof the aggregate of those keys' proof-of-possession signatures.
    /// @dev Split across calls so a large set fits the per-transaction gas cap (~84k gas a key).
    function admitValidatorKeys(uint256 count, bytes calldata aggregateProof) external {
        PendingSet memory pending = _pending;
        if (pending.keys == address(0)) revert NoPendingValidatorSet();
        uint256 remaining = pending.size - pending.admitted;
        if (count == 0 || count > remaining) revert AdmissionCountOutOfRange(count, remaining);
        if (aggregateProof.length != BLS.G2_POINT_LENGTH) revert InvalidProofOfPossession(pending.admitted, count);
        if (BLS.isInfinity(aggregateProof)) revert InfinitySignature();

        bytes memory allKeys = ValidatorKeys.readAll(pending.keys, pending.size);
        bytes memory pairs = new bytes(count * 384);
        for (uint256 i = 0; i < count; i++) {
            bytes memory raw = _slice(allKeys, (pending.admitted + i) * ValidatorKeys.RAW_KEY_LENGTH, ValidatorKeys.RAW_KEY_LENGTH);
            bytes32 digest = proofOfPossessionDigest(raw);
            bytes memory hashed = BLS.hashToG2(abi.encodePacked(digest), BLS.SIGNATURE_DST);
            _writePair(pairs, i, raw, hashed);
        }
        if (BLS.checkAggregate(pairs, aggregateProof) != BLS.PairingResult.Valid) {
            revert InvalidProofOfPossession(pending.admitted, count);
        }
        uint16 admitted = uint16(pending.admitted + count);
        emit ValidatorKeysAdmitted(pending.index, admitted, pending.size);
        if (admitted < pending.size) {
            _pending.admitted = admitted;
            return;
        }
        _activate(pending);
    }

    function rotationDigest(uint32 index, bytes32 keysHash, uint16 threshold) public view returns (bytes32) {
        return SentinelTypes.typedDigest(DOMAIN_SEPARATOR, SentinelTypes.rotationStructHash(index, keysHash, threshold));
    }

    /// @param pubkey 96 raw bytes (x || y) of the key whose possession is proven.
    function proofOfPossessionDigest(bytes memory pubkey) public view returns (bytes32) {
        return SentinelTypes.typedDigest(DOMAIN_SEPARATOR, SentinelTypes.proofOfPossessionStructHash(keccak256(pubkey)));
    }

    function validatorSet(uint32 index) external view returns (ValidatorSet memory) {
        return _sets[index];
    }

    /// @notice A set's keys as n * 96 raw bytes, in the order signer bitmaps use.
    function validatorKeys(uint32 index) external view returns (bytes memory) {
        ValidatorSet memory set = _sets[index];
        if (set.keys == address(0)) revert UnknownValidatorSet(index);
        return ValidatorKeys.readAll(set.keys, set.size);
    }

    function pendingValidatorSet() external view returns (PendingSet memory) {
        return _pending;
    }

    /// @notice ⌊2n/3⌋ + 1: the smallest threshold a set may have.
    function minimumThreshold(uint256 size) public pure returns (uint16) {
        return uint16((2 * size) / 3 + 1);
    }

    function _propose(uint32 index, bytes memory keys, uint16 threshold) private {
        if (keys.length == 0 || keys.length % ValidatorKeys.RAW_KEY_LENGTH != 0) revert InvalidKeysLength(keys.length);
        uint256 size = keys.length / ValidatorKeys.RAW_KEY_LENGTH;
        if (size > ValidatorKeys.MAX_KEYS) revert InvalidSetSize(size);
        uint16 minimum = minimumThreshold(size);
        if (threshold < minimum || threshold > size) revert ThresholdOutOfRange(threshold, minimum, uint16(size));
        _checkSortedDistinct(keys, size);
        (bool ok, bytes memory aggregate) = ValidatorKeys.sum(keys);
        if (!ok) revert InvalidPublicKey();
        bytes32 keysHash = keccak256(keys);
        _pending = PendingSet({
            keys: ValidatorKeys.store(keys, aggregate),
            size: uint16(size),
            threshold: threshold,
            admitted: 0,
            index: index,
            keysHash: keysHash
        });
        emit ValidatorSetProposed(index, keysHash, uint16(size), threshold);
    }

    function _activate(PendingSet memory pending) private {
        uint32 previous = currentSetIndex;
        uint64 previousValidUntil;
        if (hasActiveSet) {
            previousValidUntil = uint64(block.timestamp) + ROTATION_GRACE_PERIOD;
            _sets[previous].validUntil = previousValidUntil;
        }
        _sets[pending.index] = ValidatorSet({
            keys: pending.keys,
            size: pending.size,
            threshold: pending.threshold,
            validUntil: type(uint64).max
        });
        currentSetIndex = pending.index;
        hasActiveSet = true;
        delete _pending;
        emit ValidatorSetActivated(pending.index, previous, previousValidUntil);
    }

    /// @dev Strictly ascending keys (compared as 96-byte big-endian strings) cannot repeat, and
    /// give every node the same signer-bitmap order. Infinity (all zeros) would sort first.
    function _checkSortedDistinct(bytes memory keys, uint256 size) private pure {
        for (uint256 i = 0; i < size; i++) {
            uint256 offset = i * ValidatorKeys.RAW_KEY_LENGTH;
            (uint256 a0, uint256 a1, uint256 a2) = _words(keys, offset);
            if (a0 | a1 | a2 == 0) revert InfinityKey(i);
            if (i == 0) continue;
            (uint256 b0, uint256 b1, uint256 b2) = _words(keys, offset - ValidatorKeys.RAW_KEY_LENGTH);
            if (a0 == b0 && a1 == b1 && a2 == b2) revert DuplicateValidatorKey(i);
            bool ascending = a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 && a2 > b2)));
            if (!ascending) revert UnsortedValidatorKeys(i);
        }
    }

    function _words(bytes memory data, uint256 offset) private pure returns (uint256 w0, uint256 w1, uint256 w2) {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), offset)
            w0 := mload(p)
            w1 := mload(add(p, 0x20))
            w2 := mload(add(p, 0x40))
        }
    }

    /// @dev The set must exist and be inside its validity window.
    function _liveSet(uint32 index) private view returns (ValidatorSet memory set) {
        set = _sets[index];
        if (set.keys == address(0)) revert UnknownValidatorSet(index);
        if (block.timestamp > set.validUntil) revert ValidatorSetExpired(index, set.validUntil);
    }

    /// @dev Signer-count rules, then one pairing check of the aggregate signature.
    function _checkAggregate(ValidatorSet memory set, uint256 signers, bytes32 digest, bytes memory signature)
        private
        view
        returns (bool)
    {
        if (signers >> set.size != 0) revert SignerBeyondSetSize(signers, set.size);
        uint256 signed = _popcount(signers);
        if (signed < set.threshold) revert BelowThreshold(signed, set.threshold);
        if (signature.length != BLS.G2_POINT_LENGTH) revert InvalidSignaturePoint();
        if (BLS.isInfinity(signature)) revert InfinitySignature();
        (bool ok, bytes memory pubkey) = ValidatorKeys.aggregateOf(set.keys, set.size, signers);
        // Keys are on the curve and distinct, so only cancelling keys could reach infinity.
        if (!ok || BLS.isInfinity(pubkey)) return false;
        BLS.PairingResult result =
            BLS.checkSignature(pubkey, BLS.hashToG2(abi.encodePacked(digest), BLS.SIGNATURE_DST), signature);
        if (result == BLS.PairingResult.MalformedPoint) revert InvalidSignaturePoint();
        return result == BLS.PairingResult.Valid;
    }

    function _popcount(uint256 x) private pure returns (uint256 count) {
        // SWAR popcount; exact here because a set has at most 218 members (fits one byte).
        unchecked {
            x -= (x >> 1) & 0x5555555555555555555555555555555555555555555555555555555555555555;
            x = (x & 0x3333333333333333333333333333333333333333333333333333333333333333)
                + ((x >> 2) & 0x3333333333333333333333333333333333333333333333333333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f;
            count = (x * 0x0101010101010101010101010101010101010101010101010101010101010101) >> 248;
        }
    }

    function _subject(uint256 chainId, address target, bytes32 codehash) private pure returns (bytes32) {
        return keccak256(abi.encode(chainId, target, codehash));
    }

    function _slice(bytes memory data, uint256 start, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        assembly ("memory-safe") {
            mcopy(add(out, 0x20), add(add(data, 0x20), start), length)
        }
    }

    /// @dev Pair i of a PAIRING_CHECK input: the raw key padded to G1, then the hashed message.
    function _writePair(bytes memory pairs, uint256 i, bytes memory raw, bytes memory hashed) private pure {
        assembly ("memory-safe") {
            let offset := add(add(pairs, 0x20), mul(i, 384))
            mstore(offset, 0)
            mcopy(add(offset, 0x10), add(raw, 0x20), 0x30)
            mstore(add(offset, 0x40), 0)
            mcopy(add(offset, 0x50), add(raw, 0x50), 0x30)
            mcopy(add(offset, 0x80), add(hashed, 0x20), 0x100)
        }
    }

    // ---------------------------------------------------------------- enrollment

    /// @notice Enrolls `target` under the caller as its upgrade authority, with the addresses
    /// allowed to propose its upgrades and the hash of its policy. An empty list unenrolls.
    /// @dev Enrollments are keyed by (target, caller): the registry cannot read another
    /// contract's ERC-1967 admin slot, so nodes resolve the real authority off chain (admin
    /// slot, or owner()) and read only that authority's entry. A stranger's entry is never read.
    function enroll(address target, address[] calldata proposers, bytes32 policyHash) external {
        if (proposers.length > MAX_PROPOSERS) revert TooManyProposers(proposers.length);
        for (uint256 i = 0; i < proposers.length; i++) {
            if (proposers[i] == address(0)) revert ZeroProposer();
        }
        _enrollments[target][msg.sender] =
            Enrollment({policyHash: policyHash, enrolledAt: uint64(block.timestamp), proposers: proposers});
        emit Enrolled(target, msg.sender, policyHash, proposers);
    }

    function enrollment(address target, address authority) external view returns (Enrollment memory) {
        return _enrollments[target][authority];
    }

    function isEnrolledProposer(address target, address authority, address proposer) external view returns (bool) {
        address[] storage proposers = _enrollments[target][authority].proposers;
        for (uint256 i = 0; i < proposers.length; i++) {
            if (proposers[i] == proposer) return true;
        }
        return false;
    }
}
