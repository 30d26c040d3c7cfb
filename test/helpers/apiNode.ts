// A node's HTTP API on loopback with a real backend: the real NodeApi over the real Intake,
// Admission and CandidateStore, the event log and stream, on a level database in a temp dir.
// Enrollment is a stub (the `enrolled` addresses, on chain 31337); attestations, relay and the
// signing record are small in-memory stand-ins (no chains are needed for the API's own rules).
import { EvidenceStore } from "../../src/consensus/evidenceStore.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { Admission } from "../../src/admission/admission.ts";
import { WorkerRecovery } from "../../src/crypto/signerRecovery.ts";
import { NodeApi, type NodeApiModules } from "../../src/api/backend.ts";
import { RotationSigner } from "../../src/consensus/rotationSigner.ts";
import { SigningRecord } from "../../src/consensus/signingRecord.ts";
import type { ValidatorSetView } from "../../src/consensus/validatorSet.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { EventStream } from "../../src/api/eventStream.ts";
import { startApiServer, type ApiBackend, type ApiServer, type ApiServerOptions } from "../../src/api/server.ts";
import type { AttestationRecord } from "../../src/attestations/attestationStore.ts";
import { ApprovalStore } from "../../src/candidates/approvalStore.ts";
import { CandidateStore } from "../../src/candidates/candidateStore.ts";
import { HumanGate } from "../../src/candidates/humanGate.ts";
import { Intake } from "../../src/candidates/intake.ts";
import { CandidateTimelines } from "../../src/candidates/timelines.ts";
import { BUNDLE_SCHEMA, bundleHash, parseBundle } from "../../src/codec/bundle.ts";
import { candidateId, candidateTypedData, signedCandidateToJson, type Candidate } from "../../src/codec/candidate.ts";
import { DEFAULT_POLICY } from "../../src/codec/policy.ts";
import { sentinelDomain, type Verdict } from "../../src/codec/types.ts";
import { Database } from "../../src/db/database.ts";
import { EventLog } from "../../src/events/eventLog.ts";
import { systemClock } from "../../src/util/clock.ts";
import type { Json } from "../../src/util/json.ts";

export const NETWORK_ID = keccak256(stringToHex("api-test"));
export const CHAIN_ID = 31337n;
export const TARGET = getAddress("0x1000000000000000000000000000000000000001");

/** A valid source bundle document (fresh each call). */
export function rawBundle(): Record<string, Json> {
  return {
    schema: BUNDLE_SCHEMA,
    implementation: {
      compiler: "0.8.28+commit.7893614a",
      contract: "src/VaultV2.sol:VaultV2",
      input: {
        language: "Solidity",
        sources: { "src/VaultV2.sol": { content: "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\ncontract VaultV2 { uint256 x; }\n" } },
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
      },
    },
    reference: { contract: "src/VaultV1.sol:VaultV1" },
    upgradeCall: "0x",
    policy: structuredClone({ ...DEFAULT_POLICY }) as unknown as Json,
  };
}

/** A signed submission body `{candidate, signature, bundle}` for `TARGET`, created now; bound to `binding` if given. */
export async function submission(account: PrivateKeyAccount, nonce: bigint, networkId: Hex = NETWORK_ID, binding?: Hex): Promise<{ body: Record<string, Json>; id: Hex }> {
  const bundle = rawBundle();
  const now = BigInt(Math.floor(Date.now() / 1000));
  const candidate: Candidate = {
    chainId: CHAIN_ID,
    target: TARGET,
    implementation: getAddress("0x2000000000000000000000000000000000000002"),
    sourceHash: bundleHash(parseBundle(bundle)),
    policyHash: keccak256(stringToHex("policy")),
    blockNumber: 1n,
    nonce,
    createdAt: now - 10n,
    expiresAt: now + 3600n,
    ...(binding !== undefined ? { binding } : {}),
  };
  const signature = await account.signTypedData({ domain: sentinelDomain(networkId), ...candidateTypedData(candidate) });
  const json = signedCandidateToJson({ candidate, signature });
  return { body: { ...json, bundle } as unknown as Record<string, Json>, id: candidateId(NETWORK_ID, candidate) };
}

export interface ApiNode {
  url: string;
  server: ApiServer;
  store: CandidateStore;
  /** Candidates in the store. */
  storedCount(): Promise<number>;
  events: EventLog;
  /** The node's evidence store, for the success path of /v1/evidence. */
  evidence: EvidenceStore;
  /** The real human gate, its signer a list: verdicts it would have signed. */
  humanGate: HumanGate;
  signedVerdicts: Verdict[];
  /** What every ERC-1271 isValidSignature call answers (false by default; throw: the chain is down). */
  setContractWallets(answer: (wallet: Address, hash: Hex, signature: Hex) => Promise<boolean>): void;
  /** An attestation the stand-in store holds (for the success path of the attestation routes). */
  addAttestation(record: AttestationRecord): void;
  proposer: PrivateKeyAccount;
  /** The validator set whose member 0 this node is, for POST /v1/rotations. */
  committee: LocalCommittee;
  setRotationSet(set: ValidatorSetView): void;
  setEnrollment(mode: EnrollmentMode): void;
  close(): Promise<void>;
}

/** Who the enrollment stub says may propose for TARGET; "down": its chain cannot be read (and /ready says so). */
export type EnrollmentMode = "proposer" | "nobody" | "down";

export async function startApiNode(options: { enrolled?: EnrollmentMode; server?: Partial<ApiServerOptions> } = {}): Promise<ApiNode> {
  const dir = mkdtempSync(join(tmpdir(), "sentinel-api-"));
  const db = await Database.open(dir);
  // This node is the committee's validator 0; "down" also makes its registries unreadable.
  const committee = LocalCommittee.generate(4, NETWORK_ID);
  let rotationSet: ValidatorSetView = { index: 0, keys: committee.publicKeys, threshold: committee.threshold };
  const rotations = new RotationSigner(
    { networkId: NETWORK_ID },
    {
      secretKey: committee.secretKeys[0]!,
      record: new SigningRecord(db),
      currentSets: async () => {
        if (mode === "down") throw new Error("HTTP request failed: chain down (test)");
        return [rotationSet];
      },
      // The operator approves every change here: the route's other answers are under test.
      approvals: async () => ({ add: { has: () => true } as unknown as ReadonlySet<Hex>, remove: { has: () => true } as unknown as ReadonlySet<Hex> }),
      clock: systemClock,
    },
  );
  const logger = pino({ level: "silent" });
  const proposer = privateKeyToAccount(generatePrivateKey());
  let mode: EnrollmentMode = options.enrolled ?? "nobody";
  const events = new EventLog({}, { db, clock: systemClock, logger });
  await events.open();
  const store = new CandidateStore({}, { db });
  // As a node recovers signers: in its worker thread.
  const recovery = new WorkerRecovery();
  const admission = new Admission(
    { networkId: NETWORK_ID, maxCandidateBytes: 4096, maxLifetimeSeconds: 30 * 86_400, maxClockSkewSeconds: 300, chainIds: new Set([CHAIN_ID]) },
    {
      enrollment: async (_chainId, target) => {
        if (mode === "down") throw new Error("HTTP request failed: chain down (test)");
        return { proposers: target === TARGET && mode === "proposer" ? [proposer.address] : [] };
      },
      isKnown: (id) => store.has(id),
      now: () => new Date(),
      recovery,
    },
  );
  const intake = new Intake({}, {
    admission,
    store,
    publish: async () => {},
    onAdmitted: (admitted) => events.emit("candidate.admitted", admitted.id, { proposer: admitted.proposer }),
    clock: systemClock,
    logger,
  });
  const attestations = new Map<string, AttestationRecord>();
  const evidence = new EvidenceStore({}, { db, events, logger });
  const signedVerdicts: Verdict[] = [];
  let contractWallets: (wallet: Address, hash: Hex, signature: Hex) => Promise<boolean> = async () => false;
  const humanGate = new HumanGate(
    { networkId: NETWORK_ID },
    {
      store: new ApprovalStore({}, { db }),
      hasCandidate: (id) => store.has(id),
      sign: async (_admitted, verdict) => void signedVerdicts.push(verdict),
      publish: async () => {},
      // No chain here: every contract wallet says no, unless a test says otherwise.
      isValidSignature: async (_chainId, wallet, hash, signature) => contractWallets(wallet, hash, signature),
      clock: systemClock,
      logger,
    },
  );
  const modules: NodeApiModules = {
    submit: (body) => intake.submit(body),
    humanGate,
    rotations,
    candidates: store,
    attestations: {
      get: async (id: Hex) => attestations.get(id),
      byTarget: async (chainId: bigint, target: Address) =>
        [...attestations.values()].filter((a) => a.chainId === chainId.toString() && a.target.toLowerCase() === target.toLowerCase()),
    } as unknown as NodeApiModules["attestations"],
    relay: { pendingOf: async () => new Map(), resultOf: async () => undefined } as unknown as NodeApiModules["relay"],
    signingRecord: { signedDigest: async () => undefined } as unknown as NodeApiModules["signingRecord"],
    timelines: new CandidateTimelines(),
    events: new EventStream({}, { log: events }),
    evidence,
    monitoring: () => ({ stats: { blocks: 3, readings: 6, unreadable: 0, alerts: 1, suppressed: 2 }, approvals: [{ approvalId: `0x${"ab".repeat(32)}`, chainId: CHAIN_ID.toString(), target: TARGET, codehash: `0x${"ef".repeat(32)}`, invariants: ["cap"] }], episodes: [{ key: `0x${"ab".repeat(32)}|cap`, broken: true, episodes: 1, inEpisode: true }] }),
    verdictsSeen: () => ({}),
    chains: [{ chainId: Number(CHAIN_ID), reachable: async () => mode !== "down" }],
    network: { peerId: () => "12D3KooWtest", peers: () => [], scoreOf: () => 0, counters: () => ({}) },
    identity: { name: "api-test", validatorIndex: 0, setIndex: 0 },
    validatorSet: { threshold: 1, publicKeys: [`0x${"a0".repeat(48)}`] },
    recentCandidates: async (limit) => ({
      candidates: [...new Set((await events.read(0, 1_000)).reverse().map((event) => event.candidateId as Hex))].slice(0, limit),
      lastEventId: events.lastId,
    }),
    expectsPeers: false,
    // NodeApi's metrics need every part's counters; the API's test needs only some text.
    metrics: async () => "# TYPE sentinel_test counter\nsentinel_test 1\n",
    healthExtra: () => ({}),
  };
  const backend: ApiBackend = new NodeApi({}, modules);
  const server = await startApiServer({ host: "127.0.0.1", port: 0, ...options.server }, backend);
  return {
    url: server.url,
    server,
    store,
    events,
    evidence,
    humanGate,
    signedVerdicts,
    setContractWallets: (answer) => {
      contractWallets = answer;
    },
    proposer,
    committee,
    setRotationSet: (set) => {
      rotationSet = set;
    },
    setEnrollment: (next) => {
      mode = next;
    },
    addAttestation: (record) => attestations.set(record.candidateId, record),
    async storedCount() {
      let n = 0;
      for await (const _ of store.entries()) n++;
      return n;
    },
    async close() {
      humanGate.stop();
      await server.close();
      await recovery.close();
      await events.flush();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
