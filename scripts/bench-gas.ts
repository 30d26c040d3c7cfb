// npm run bench:gas — gas of on-chain attestation verification for committees of 4, 16, 100
// and 200 keys, with every member signing and with only a threshold signing, on a real anvil
// chain. Prints a table, then one JSON object as the last line.
//
// verifyAttestationGas: the verification alone (decoding, digest, hash-to-G2, key aggregation,
//   pairing): the gasleft() delta around a call to verifyAttestation minus the same probe's
//   delta for a call to a trivial view of the same registry (the cold CALL itself).
// verifyAttestationCallGas: the whole delta, what a calling contract pays, cold CALL included.
// submitGas: the whole transaction a relayer pays for submitAttestation (intrinsic gas,
//   calldata, verification, storage, event).
// marginalSignerGas: the largest change in verifyAttestation gas when one signer is added or
//   removed around the threshold.
import { encodeFunctionData, keccak256, stringToHex, type Hex } from "viem";
import { GasProbe, SentinelRegistry } from "../artifacts/contracts.ts";
import { connectChain } from "../src/chains/clients.ts";
import { deployContract } from "../src/chains/deploy.ts";
import { deployRegistry } from "../src/chains/registry.ts";
import { encodeAttestation } from "../src/codec/attestation.ts";
import { ANVIL_DEV_KEYS } from "../src/devnet/accounts.ts";
import { startAnvil } from "../src/verify/shadow/anvil.ts";
import { LocalCommittee } from "../src/devnet/committee.ts";
import { randomVerdict } from "../src/devnet/randomVerdict.ts";

const SIZES = [4, 16, 100, 200];
const NETWORK_ID = keccak256(stringToHex("sentinel-bench"));
/** Published figures this is compared with (see issue #2 and docs/gas.md). */
const REFERENCES = [
  "EigenLayer BLSSignatureChecker (BN254): ~160k + 18.7k per non-signer",
  "Hyperlane multisig ISM: ~4.6k per signature (13-of-18: 183.5k)",
  "Wormhole 13-of-19 ECDSA: ~90k",
  "precompiles alone (2-pair pairing 102.9k + 2x MAP_FP2_TO_G2 47.6k): ~153k",
];

interface Row {
  n: number;
  signers: number;
  verifyAttestationGas: number;
  verifyAttestationCallGas: number;
  submitGas: number;
}

const anvil = await startAnvil({ chainId: 31337, extraArgs: ["--gas-limit", "60000000"] });
try {
  const chain = connectChain(31337, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
  const probe = await deployContract(chain.wallet, chain.client, GasProbe);
  const rows: Row[] = [];
  const marginal: Record<number, number> = {};

  for (const n of SIZES) {
    const committee = LocalCommittee.generate(n, NETWORK_ID);
    const { address: registry } = await deployRegistry(chain, {
      networkId: NETWORK_ID,
      rotationGracePeriodSeconds: 3600n,
      genesis: committee.genesis(),
    });
    const now = (await chain.client.getBlock()).timestamp;
    const verdict = () => randomVerdict({ issuedAt: now });

    const probeCall = async (data: Hex): Promise<{ gasUsed: number; result: Hex }> => {
      const [gasUsed, ok, result] = await chain.client.readContract({
        address: probe,
        abi: GasProbe.abi,
        functionName: "measure",
        args: [registry, data],
      });
      if (!ok) throw new Error("probed call reverted");
      return { gasUsed: Number(gasUsed), result };
    };
    const callOverhead = (await probeCall(encodeFunctionData({ abi: SentinelRegistry.abi, functionName: "NETWORK_ID" }))).gasUsed;
    const callGas = async (signers: number[]): Promise<number> => {
      const encoded = encodeAttestation(committee.attest(verdict(), 0, signers));
      const data = encodeFunctionData({ abi: SentinelRegistry.abi, functionName: "verifyAttestation", args: [encoded] });
      const { gasUsed, result } = await probeCall(data);
      if (BigInt(result) !== 1n) throw new Error(`verifyAttestation false for ${signers.length}-of-${n}`);
      return gasUsed;
    };
    const verifyGas = async (signers: number[]) => (await callGas(signers)) - callOverhead;
    const submitGas = async (signers: number[]): Promise<number> => {
      const encoded = encodeAttestation(committee.attest(verdict(), 0, signers));
      const hash = await chain.wallet.writeContract({
        address: registry,
        abi: SentinelRegistry.abi,
        functionName: "submitAttestation",
        args: [encoded],
      });
      const receipt = await chain.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`submitAttestation reverted for ${signers.length}-of-${n}`);
      return Number(receipt.gasUsed);
    };

    for (const count of [n, committee.threshold]) {
      const signers = committee.firstSigners(count);
      const verifyAttestationCallGas = await callGas(signers);
      rows.push({
        n,
        signers: count,
        verifyAttestationGas: verifyAttestationCallGas - callOverhead,
        verifyAttestationCallGas,
        submitGas: await submitGas(signers),
      });
    }
    // One signer more or less, around the threshold, at different bitmap positions.
    const steps: number[] = [];
    const base = await verifyGas(committee.firstSigners(committee.threshold));
    for (let extra = 1; extra <= Math.min(3, n - committee.threshold); extra++) {
      steps.push(Math.abs(base - (await verifyGas(committee.firstSigners(committee.threshold + extra))) ) / extra);
    }
    const all = rows.find((row) => row.n === n && row.signers === n)!.verifyAttestationGas;
    if (n > committee.threshold) steps.push(Math.abs(base - all) / (n - committee.threshold));
    marginal[n] = Math.round(Math.max(...steps, 0));
  }

  console.log("\nverifyAttestation / submitAttestation gas (anvil, EIP-2537 precompiles)\n");
  console.log("   n  signers  verification alone  + cold CALL (caller pays)  submitAttestation (whole tx)  per-signer Δ");
  for (const row of rows) {
    const cells = [
      [row.n, 4],
      [row.signers, 7],
      [row.verifyAttestationGas, 18],
      [row.verifyAttestationCallGas, 25],
      [row.submitGas, 28],
      [marginal[row.n], 12],
    ] as const;
    console.log(cells.map(([value, width]) => String(value).padStart(width)).join("  "));
  }
  console.log("\nreference points:");
  for (const reference of REFERENCES) console.log(`  - ${reference}`);
  const headline = rows.find((row) => row.n === 100 && row.signers === 67)!;
  console.log(
    JSON.stringify({
      n: 100,
      signers: 67,
      verifyAttestationGas: headline.verifyAttestationGas,
      verifyAttestationCallGas: headline.verifyAttestationCallGas,
      submitGas: headline.submitGas,
      marginalSignerGas: marginal[100],
      rows: rows.map((row) => ({ ...row, marginalSignerGas: marginal[row.n] })),
    }),
  );
} finally {
  await anvil.stop();
}
