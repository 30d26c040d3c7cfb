// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

// scripts/build-contracts.ts writes artifacts only for sources under contracts/, so the OZ
// proxies get a name here. These add nothing but the name: runtime behaviour is OZ's own, and
// the transparent proxy still deploys OZ's ProxyAdmin itself.

/// @title Test fixture: OZ's ERC1967Proxy.
contract SentinelTestERC1967Proxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}

/// @title Test fixture: OZ's TransparentUpgradeableProxy (with its own OZ ProxyAdmin).
contract SentinelTestTransparentProxy is TransparentUpgradeableProxy {
    constructor(address logic, address initialOwner, bytes memory data)
        payable
        TransparentUpgradeableProxy(logic, initialOwner, data)
    {}
}
