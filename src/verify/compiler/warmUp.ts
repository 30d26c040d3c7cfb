// What SolcCompilers.warm() compiles in a freshly loaded worker, and how many times: a node warms
// the versions it expects to need at start-up, so that its first real compile neither waits for
// soljson nor runs cold.
import { withVerificationOutputs } from "./outputs.ts";

/**
 * A contract small enough to compile in well under a second warm, that still goes through what
 * real projects use (inheritance, libraries, modifiers, custom errors, structs, immutables,
 * inline assembly, loops, the optimizer), so that V8 tiers up the soljson functions they need.
 */
const WARM_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity >=0.8.4;
library SafeCast {
    function toUint128(uint256 v) internal pure returns (uint128) { require(v <= type(uint128).max, "cast"); return uint128(v); }
}
interface IToken {
    event Transfer(address indexed from, address indexed to, uint256 amount);
    function transfer(address to, uint256 amount) external returns (bool);
}
abstract contract Owned {
    error NotOwner(address caller);
    address public owner;
    modifier onlyOwner() { if (msg.sender != owner) revert NotOwner(msg.sender); _; }
    constructor() { owner = msg.sender; }
}
contract Warm is IToken, Owned {
    using SafeCast for uint256;
    struct Account { uint128 balance; uint64 nonce; bool frozen; }
    mapping(address => Account) internal accounts;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public immutable cap;
    bytes32 private constant SLOT = keccak256("warm.slot");
    string public name = "Warm";
    constructor(uint256 cap_) { cap = cap_; }
    function balanceOf(address who) external view returns (uint256) { return accounts[who].balance; }
    function transfer(address to, uint256 amount) external returns (bool) { _move(msg.sender, to, amount); return true; }
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "allowance");
            unchecked { allowance[from][msg.sender] = allowed - amount; }
        }
        _move(from, to, amount);
        return true;
    }
    function mint(address to, uint256 amount) external onlyOwner {
        require(amount <= cap, "cap");
        accounts[to].balance += amount.toUint128();
        emit Transfer(address(0), to, amount);
    }
    function freeze(address[] calldata who, bool frozen) external onlyOwner {
        for (uint256 i = 0; i < who.length; ++i) accounts[who[i]].frozen = frozen;
    }
    function slot() external view returns (uint256 v) { bytes32 s = SLOT; assembly { v := sload(s) } }
    function digest(bytes memory data, uint256 rounds) public pure returns (bytes32 h) {
        h = keccak256(data);
        for (uint256 i; i < rounds; i++) h = keccak256(abi.encodePacked(h, i));
    }
    function _move(address from, address to, uint256 amount) internal {
        Account storage a = accounts[from];
        require(!a.frozen && !accounts[to].frozen, "frozen");
        require(a.balance >= amount, "balance");
        unchecked { a.balance -= uint128(amount); }
        accounts[to].balance += amount.toUint128();
        a.nonce++;
        emit Transfer(from, to, amount);
    }
}
`;

export const WARM_INPUT = withVerificationOutputs({
  language: "Solidity",
  sources: { "Warm.sol": { content: WARM_SOURCE } },
  settings: { optimizer: { enabled: true, runs: 200 } },
});

/**
 * Warm-up compiles this many times by default, stopping early once a round is not much faster
 * than the one before. Measured (2 busy cores, OpenZeppelin ERC20+Ownable+UUPS, solc 0.8.28): the
 * first compile in a new worker took 4-5 s, after one warm-up round 2-3 s, the same as a second
 * compile; more rounds did not help further.
 */
export const WARM_MAX_ROUNDS = 1;
/** A round is "not much faster" when its CPU time is above this share of the round before. */
export const WARM_SETTLED = 0.85;
