// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Recognises proxy upgrade calls in a (target, calldata) pair.
/// @notice For executors that run arbitrary governance calls (timelocks, multisig modules) and
/// must gate the ones that change a proxy's implementation.
/// @dev Recognised by selector only, so a direct call is all it sees: an upgrade wrapped in a
/// multicall, ownership of a ProxyAdmin handed to an unguarded account, or a protocol-specific
/// upgrade function are not recognised. A non-upgrade function that happens to share one of
/// these selectors is treated as an upgrade and refused unless approved, which is the safe
/// direction to err in.
library UpgradeCalls {
    /// @notice UUPS / ERC-1967 proxies (also a v4 transparent proxy called by its admin).
    bytes4 internal constant UPGRADE_TO_AND_CALL = bytes4(keccak256("upgradeToAndCall(address,bytes)"));
    /// @notice Pre-v5 UUPS and UpgradeableBeacon (for a beacon the beacon is the "proxy").
    bytes4 internal constant UPGRADE_TO = bytes4(keccak256("upgradeTo(address)"));
    /// @notice OZ ProxyAdmin (all versions): the proxy is an argument, not the target.
    bytes4 internal constant UPGRADE_AND_CALL = bytes4(keccak256("upgradeAndCall(address,address,bytes)"));
    /// @notice Pre-v5 ProxyAdmin.
    bytes4 internal constant UPGRADE = bytes4(keccak256("upgrade(address,address)"));

    /// @param target the contract the call is made to.
    /// @param data the call's calldata.
    /// @return isUpgrade true when the selector is one of the upgrade selectors, well formed or not.
    /// @return proxy the contract whose implementation would change; zero when malformed.
    /// @return implementation the new implementation; zero when malformed. Zero is never a valid
    /// implementation, so callers must refuse it without asking a registry.
    /// @dev Malformed means shorter than the selector's static head, or an address word with
    /// dirty upper bits. Both count as upgrades (refused) rather than as other calls: a
    /// target's decoder that tolerated them would otherwise upgrade to an unchecked address.
    /// The `bytes` argument is not decoded; the target's own decoder rejects a bad one, and it
    /// cannot change which implementation is installed.
    function parse(address target, bytes calldata data)
        internal
        pure
        returns (bool isUpgrade, address proxy, address implementation)
    {
        if (data.length < 4) return (false, address(0), address(0));
        bytes4 selector = bytes4(data[:4]);
        if (selector == UPGRADE_TO_AND_CALL) return _direct(target, data, 2);
        if (selector == UPGRADE_TO) return _direct(target, data, 1);
        if (selector == UPGRADE_AND_CALL) return _viaAdmin(data, 3);
        if (selector == UPGRADE) return _viaAdmin(data, 2);
        return (false, address(0), address(0));
    }

    /// @dev The target is the proxy (or beacon); the implementation is the first argument.
    function _direct(address target, bytes calldata data, uint256 headWords)
        private
        pure
        returns (bool, address, address)
    {
        if (data.length < 4 + 32 * headWords) return (true, address(0), address(0));
        (bool ok, address implementation) = _addressAt(data, 0);
        if (!ok) return (true, address(0), address(0));
        return (true, target, implementation);
    }

    /// @dev ProxyAdmin: the proxy is the first argument, the implementation the second.
    function _viaAdmin(bytes calldata data, uint256 headWords) private pure returns (bool, address, address) {
        if (data.length < 4 + 32 * headWords) return (true, address(0), address(0));
        (bool proxyOk, address proxy) = _addressAt(data, 0);
        (bool implementationOk, address implementation) = _addressAt(data, 1);
        if (!proxyOk || !implementationOk) return (true, address(0), address(0));
        return (true, proxy, implementation);
    }

    /// @dev The `index`-th argument word as an address; not ok if its upper 96 bits are set.
    /// The caller has checked the length.
    function _addressAt(bytes calldata data, uint256 index) private pure returns (bool ok, address value) {
        uint256 start = 4 + 32 * index;
        uint256 word = uint256(bytes32(data[start:start + 32]));
        if (word >> 160 != 0) return (false, address(0));
        return (true, address(uint160(word)));
    }
}
