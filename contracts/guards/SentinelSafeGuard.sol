// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BaseTransactionGuard} from "@safe-global/safe-smart-account/contracts/base/GuardManager.sol";
import {Enum} from "@safe-global/safe-smart-account/contracts/libraries/Enum.sol";
import {ISentinelRegistry} from "../interfaces/ISentinelRegistry.sol";
import {UpgradeCalls} from "./UpgradeCalls.sol";

/// @notice What the guard reads from the Safe that calls it (Safe 1.5.0's own views).
interface ISafeNonce {
    function nonce() external view returns (uint256);
    function domainSeparator() external view returns (bytes32);
}

/// @title A Safe transaction guard: an upgrade a Safe executes needs Sentinel's approval.
/// @notice For protocols whose proxies (UUPS, or transparent through a ProxyAdmin) are owned by
/// a Safe. Set it with the Safe's `setGuard`; one deployment serves any number of Safes (it
/// keeps no state). A Safe transaction that upgrades a proxy (the calls UpgradeCalls
/// recognises, directly or inside a MultiSend batch) executes only if the registry approves
/// the new implementation's codehash for that proxy on this chain, and, if the approval is
/// bound, bound to this Safe transaction's hash. Every other transaction passes, except the
/// ones that would take the Safe out of the guard's sight:
///  - DELEGATECALL to anything but the MultiSend contracts named at deployment (a delegatecall
///    runs arbitrary code as the Safe: an upgrade, or a write to the guard's own slot), and
///    DELEGATECALL entries inside a MultiSend batch;
///  - the Safe calling its own `setGuard`, `enableModule` or `setModuleGuard`: a removed guard
///    or a module (whose transactions this guard never sees) would let the next upgrade through.
/// Adopting the guard is therefore one-way for that Safe. What it does not see: ownership of a
/// proxy or ProxyAdmin handed to another account (then upgraded from there), modules enabled
/// before the guard was set, and protocol-specific upgrade functions (see UpgradeCalls).
/// @dev The checks run in `checkTransaction`, before the Safe executes the transaction, so
/// the codehash read is the code the proxy will run (code cannot change within the
/// transaction before the upgrade call, except from empty, which is never approved).
contract SentinelSafeGuard is BaseTransactionGuard {
    /// @notice The registry consulted on every upgrade. Immutable: moving a Safe to another
    /// registry means deploying another guard (which this one refuses to let the Safe set).
    ISentinelRegistry public immutable SENTINEL_REGISTRY;
    /// @notice The MultiSend contracts a Safe may delegatecall; zero for none.
    address public immutable MULTI_SEND;
    address public immutable MULTI_SEND_CALL_ONLY;

    /// @dev keccak256 of Safe 1.5.0's SafeTx type string, as Safe.sol has it.
    bytes32 private constant SAFE_TX_TYPEHASH = keccak256(
        "SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
    );
    bytes4 private constant MULTI_SEND_SELECTOR = bytes4(keccak256("multiSend(bytes)"));
    bytes4 private constant SET_GUARD = bytes4(keccak256("setGuard(address)"));
    bytes4 private constant ENABLE_MODULE = bytes4(keccak256("enableModule(address)"));
    bytes4 private constant SET_MODULE_GUARD = bytes4(keccak256("setModuleGuard(address)"));

    /// @notice The registry has no current approval of `codehash` for `proxy` on this chain
    /// (or it is bound to another Safe transaction). All fields are zero when the upgrade
    /// calldata was malformed.
    error UpgradeNotApproved(address proxy, address implementation, bytes32 codehash);
    /// @notice A DELEGATECALL to `target`, which is not a MultiSend this guard can read.
    error DelegateCallRefused(address target);
    /// @notice The Safe calling its own `selector` (setGuard, enableModule, setModuleGuard).
    error GuardChangeRefused(bytes4 selector);
    /// @notice A MultiSend call this guard cannot read exactly as MultiSend would execute it.
    error MalformedMultiSend();
    error InvalidSentinelRegistry(address registry);

    constructor(ISentinelRegistry registry, address multiSend, address multiSendCallOnly) {
        if (address(registry).code.length == 0) revert InvalidSentinelRegistry(address(registry));
        SENTINEL_REGISTRY = registry;
        MULTI_SEND = multiSend;
        MULTI_SEND_CALL_ONLY = multiSendCallOnly;
    }

    /// @dev Called by the Safe (msg.sender) after the owners' signatures are checked and its
    /// nonce incremented, before execution. Only `to`, `data` and `operation` are read as
    /// parameters; the Safe transaction hash is rebuilt from the raw calldata (see
    /// `_safeTxHash`) to stay clear of the stack limit.
    function checkTransaction(
        address to,
        uint256,
        bytes memory,
        Enum.Operation operation,
        uint256,
        uint256,
        uint256,
        address,
        address payable,
        bytes memory,
        address
    ) external view override {
        bytes calldata data = _dataArgument();
        if (operation == Enum.Operation.DelegateCall) {
            if (to == address(0) || (to != MULTI_SEND && to != MULTI_SEND_CALL_ONLY)) revert DelegateCallRefused(to);
            _checkMultiSend(data);
        } else {
            _checkCall(to, data);
        }
    }

    /// @dev `data` as a calldata slice (the declared parameter is a memory copy, which
    /// UpgradeCalls cannot read): word 2 of the arguments is its offset. The ABI decoder of
    /// `checkTransaction` has already checked that offset and length lie inside the calldata.
    function _dataArgument() private pure returns (bytes calldata data) {
        assembly ("memory-safe") {
            let start := add(0x04, calldataload(0x44))
            data.length := calldataload(start)
            data.offset := add(start, 0x20)
        }
    }

    /// @dev Nothing to check after execution: `checkTransaction` refused before anything ran.
    function checkAfterExecution(bytes32, bool) external view override {}

    /// @dev Mirrors MultiSend's loop over `operation ‖ to ‖ value ‖ dataLength ‖ data` entries,
    /// but reads strictly inside the batch: MultiSend would read past its end into whatever
    /// memory follows, which this guard cannot see, so an overrunning entry is refused.
    function _checkMultiSend(bytes calldata data) private view {
        if (data.length < 4 || bytes4(data[:4]) != MULTI_SEND_SELECTOR) revert MalformedMultiSend();
        bytes calldata args = data[4:];
        if (args.length < 32) revert MalformedMultiSend();
        uint256 offset = uint256(bytes32(args[:32]));
        if (offset > args.length || args.length - offset < 32) revert MalformedMultiSend();
        uint256 length = uint256(bytes32(args[offset:offset + 32]));
        if (length > args.length - offset - 32) revert MalformedMultiSend();
        bytes calldata batch = args[offset + 32:offset + 32 + length];
        uint256 i = 0;
        while (i < batch.length) {
            if (batch.length - i < 85) revert MalformedMultiSend();
            uint8 entryOperation = uint8(batch[i]);
            address target = address(bytes20(batch[i + 1:i + 21]));
            uint256 dataLength = uint256(bytes32(batch[i + 53:i + 85]));
            if (dataLength > batch.length - i - 85) revert MalformedMultiSend();
            // MultiSend sends a zero target to the Safe itself (address(this) under delegatecall).
            if (target == address(0)) target = msg.sender;
            if (entryOperation != 0) revert DelegateCallRefused(target);
            _checkCall(target, batch[i + 85:i + 85 + dataLength]);
            i += 85 + dataLength;
        }
    }

    /// @dev One CALL made by the Safe (msg.sender).
    function _checkCall(address target, bytes calldata data) private view {
        if (target == msg.sender && data.length >= 4) {
            bytes4 selector = bytes4(data[:4]);
            if (selector == SET_GUARD || selector == ENABLE_MODULE || selector == SET_MODULE_GUARD) {
                revert GuardChangeRefused(selector);
            }
        }
        (bool isUpgrade, address proxy, address implementation) = UpgradeCalls.parse(target, data);
        if (!isUpgrade) return;
        if (implementation == address(0)) revert UpgradeNotApproved(address(0), address(0), bytes32(0));
        bytes32 codehash = implementation.codehash;
        if (!SENTINEL_REGISTRY.isApprovedFor(block.chainid, proxy, codehash, _safeTxHash())) {
            revert UpgradeNotApproved(proxy, implementation, codehash);
        }
    }

    /// @notice The hash the calling Safe signed for the transaction it is executing: Safe
    /// 1.5.0's `getTransactionHash` of this call's arguments with the nonce before the
    /// increment (the Safe increments it before calling the guard).
    /// @dev The EIP-712 struct is built straight from this call's calldata: the first nine
    /// argument words of checkTransaction are SafeTx's fields in SafeTx's order, except that
    /// word 2 is `data`'s offset, whose bytes are hashed instead.
    function _safeTxHash() private view returns (bytes32 hash) {
        ISafeNonce safe = ISafeNonce(msg.sender);
        bytes32 domain = safe.domainSeparator();
        uint256 nonce = safe.nonce() - 1;
        bytes32 typehash = SAFE_TX_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            mstore(add(ptr, 0x20), calldataload(0x04)) // to
            mstore(add(ptr, 0x40), calldataload(0x24)) // value
            let dataStart := add(0x04, calldataload(0x44))
            let dataLength := calldataload(dataStart)
            calldatacopy(add(ptr, 0x160), add(dataStart, 0x20), dataLength)
            mstore(add(ptr, 0x60), keccak256(add(ptr, 0x160), dataLength)) // keccak256(data)
            mstore(add(ptr, 0x80), calldataload(0x64)) // operation
            mstore(add(ptr, 0xa0), calldataload(0x84)) // safeTxGas
            mstore(add(ptr, 0xc0), calldataload(0xa4)) // baseGas
            mstore(add(ptr, 0xe0), calldataload(0xc4)) // gasPrice
            mstore(add(ptr, 0x100), calldataload(0xe4)) // gasToken
            mstore(add(ptr, 0x120), calldataload(0x104)) // refundReceiver
            mstore(add(ptr, 0x140), nonce)
            let structHash := keccak256(ptr, 0x160)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), structHash)
            hash := keccak256(ptr, 0x42)
        }
    }
}
