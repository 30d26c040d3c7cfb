// The real Safe (npm @safe-global/safe-smart-account 1.5.0, its build artifacts' bytecode) on a
// local chain: the singleton, the proxy factory and the CompatibilityFallbackHandler (which
// answers a Safe's ERC-1271 isValidSignature), and Safes made from them. Used by the human gate's
// devnet scenario and tests, where a Safe is one of a policy's approvers.
import { createRequire } from "node:module";
import { decodeEventLog, encodeFunctionData, zeroAddress, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import { deployContract, type Artifact } from "../chains/deploy.ts";

const require = createRequire(import.meta.url);
const ARTIFACTS = "@safe-global/safe-smart-account/build/artifacts/contracts";

function artifact(path: string): Artifact {
  const { abi, bytecode } = require(`${ARTIFACTS}/${path}`) as { abi: Abi; bytecode: Hex };
  return { abi, bytecode };
}

export interface SafeDeployment {
  singleton: Address;
  factory: Address;
  fallbackHandler: Address;
}

type Wallet = WalletClient<Transport, Chain, Account>;

export async function deploySafeContracts(wallet: Wallet, client: PublicClient): Promise<SafeDeployment> {
  return {
    singleton: await deployContract(wallet, client, artifact("Safe.sol/Safe.json")),
    factory: await deployContract(wallet, client, artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json")),
    fallbackHandler: await deployContract(wallet, client, artifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json")),
  };
}

/** A new Safe proxy with these owners and threshold, the compatibility handler as its fallback. */
export async function createSafe(wallet: Wallet, client: PublicClient, deployment: SafeDeployment, owners: readonly Address[], threshold: number, saltNonce = 0n): Promise<Address> {
  const safe = artifact("Safe.sol/Safe.json");
  const factory = artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json");
  const initializer = encodeFunctionData({
    abi: safe.abi,
    functionName: "setup",
    args: [owners, BigInt(threshold), zeroAddress, "0x", deployment.fallbackHandler, zeroAddress, 0n, zeroAddress],
  });
  const hash = await wallet.writeContract({ address: deployment.factory, abi: factory.abi, functionName: "createProxyWithNonce", args: [deployment.singleton, initializer, saltNonce], chain: wallet.chain, account: wallet.account });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`Safe creation reverted (tx ${hash})`);
  for (const log of receipt.logs) {
    try {
      const event = decodeEventLog({ abi: factory.abi, data: log.data, topics: log.topics });
      if (event.eventName === "ProxyCreation") return (event.args as unknown as { proxy: Address }).proxy;
    } catch {
      // Another contract's log (the Safe's own SafeSetup).
    }
  }
  throw new Error(`no ProxyCreation event in tx ${hash}`);
}
