// What the checks of one candidate share: its inputs, and values derived from them once (the
// bundle, the compiled builds, code read at the pinned block). Each derived value has one owning
// check that reports its failure; every other check that needs it is skipped, so a verdict's
// reasons name the cause once instead of every consequence.
import { hexToBigInt, keccak256, type Address, type Block, type Hex, type PublicClient } from "viem";
import { ERC1967_IMPLEMENTATION_SLOT, resolveUpgradeAuthority, wordAddress, type UpgradeAuthority } from "../chains/authority.ts";
import { referenceBuild, type BuildSpec, type SolcInput, type SourceBundle } from "../codec/bundle.ts";
import type { Candidate } from "../codec/candidate.ts";
import type { SolcContractOutput, SolcOutput } from "./compiler/index.ts";
import { EnrollmentNotChecked, PrerequisiteUnavailable } from "./errors.ts";
import type { AnvilInstance, AnvilOptions } from "./shadow/anvil.ts";

/** A compiled contract, with the standard-JSON output of the whole compilation it came from. */
export interface CompiledBuild {
  spec: BuildSpec;
  output: SolcOutput;
  /** The contract's entry in the output. */
  contract: SolcContractOutput;
}

export interface Enrollment {
  enrolled: boolean;
  authority?: Address;
  /** The policy hash the authority enrolled; zero means the default policy. */
  policyHash?: Hex;
}

export interface VerificationInputs {
  candidateId: Hex;
  candidate: Candidate;
  proposer: Address;
  /** Client for the candidate's chain. */
  client: PublicClient;
  /** The same chain's JSON-RPC URL: the shadow deployment forks it. */
  rpcUrl: string;
  /** The Sentinel registry on that chain, if known: the shadow fork assumes its approval. */
  registry?: Address;
  loadBundle(): Promise<SourceBundle>;
  compile(spec: BuildSpec): Promise<CompiledBuild>;
  /**
   * The storage layouts and ASTs of a build, ready before its code (BuildCompiler.syntax): what
   * upgrades-core's namespaced compilation starts from. Without it, the whole build's output.
   */
  compileSyntax?(spec: BuildSpec): Promise<SolcOutput>;
  /** A compilation exactly as given (upgrades-core's namespaced-layout compilation). */
  compileExactly(version: string, input: SolcInput): Promise<SolcOutput>;
  /** Absent in a dry run without a registry: the origin check is skipped, not failed. */
  enrollment?: () => Promise<Enrollment>;
  /**
   * Starts the shadow deployment's fork. The caller owns the processes (an AnvilProcesses, which
   * kills what is left when the caller closes): a check never starts one on its own.
   */
  startFork(options: AnvilOptions): Promise<AnvilInstance>;
}

export class VerificationContext {
  readonly inputs: VerificationInputs;
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(inputs: VerificationInputs) {
    this.inputs = inputs;
  }

  get candidate(): Candidate {
    return this.inputs.candidate;
  }

  get client(): PublicClient {
    return this.inputs.client;
  }

  /** The pinned block. Owner: implementation-code. */
  block(): Promise<Block> {
    return this.shared("block", () => this.client.getBlock({ blockNumber: this.candidate.blockNumber }));
  }

  /** The new implementation's runtime code at the pinned block, undefined if none. Owner: implementation-code. */
  code(): Promise<Hex | undefined> {
    return this.shared("code", async () => {
      await this.block();
      const code = await this.client.getCode({ address: this.candidate.implementation, blockNumber: this.candidate.blockNumber });
      return code && code !== "0x" ? code : undefined;
    });
  }

  /** Owner: source. */
  bundle(): Promise<SourceBundle> {
    return this.shared("bundle", () => this.inputs.loadBundle());
  }

  /** Owner: origin. */
  enrollment(): Promise<Enrollment> {
    return this.shared("enrollment", async () => {
      if (!this.inputs.enrollment) throw new EnrollmentNotChecked("no registry and proposer given");
      return this.inputs.enrollment();
    });
  }

  /** The implementation the proxy points at, at the pinned block (undefined: not an ERC-1967 proxy). Owner: reproducible-build. */
  currentImplementation(): Promise<Address | undefined> {
    return this.shared("currentImplementation", async () => {
      await this.block();
      const word = await this.client.getStorageAt({ address: this.candidate.target, slot: ERC1967_IMPLEMENTATION_SLOT, blockNumber: this.candidate.blockNumber });
      if (word === undefined || hexToBigInt(word) === 0n) return undefined;
      return wordAddress(word);
    });
  }

  /** Owner: reproducible-build. */
  currentCode(): Promise<Hex | undefined> {
    return this.shared("currentCode", async () => {
      const address = await this.currentImplementation();
      if (address === undefined) return undefined;
      const code = await this.client.getCode({ address, blockNumber: this.candidate.blockNumber });
      return code && code !== "0x" ? code : undefined;
    });
  }

  /** Owner: reproducible-build. */
  implementationBuild(): Promise<CompiledBuild> {
    return this.shared("implementationBuild", async () => this.inputs.compile((await this.bundle()).implementation));
  }

  /** The implementation build's storage layouts and ASTs, possibly before its code. Owner: reproducible-build. */
  implementationSyntax(): Promise<SolcOutput> {
    return this.shared("implementationSyntax", async () => {
      const { compileSyntax } = this.inputs;
      if (compileSyntax === undefined) return (await this.implementationBuild()).output;
      return compileSyntax((await this.bundle()).implementation);
    });
  }

  /** Owner: reproducible-build. */
  referenceBuild(): Promise<CompiledBuild> {
    return this.shared("referenceBuild", async () => this.inputs.compile(referenceBuild(await this.bundle())));
  }

  /** Owner: origin. */
  authority(): Promise<UpgradeAuthority> {
    return this.shared("authority", async () => {
      await this.block();
      return resolveUpgradeAuthority(this.client, this.candidate.target, { blockNumber: this.candidate.blockNumber });
    });
  }

  /** The hash of the code being approved, or of empty code. */
  async codehash(): Promise<Hex> {
    const code = await this.code().catch(() => undefined);
    return keccak256(code ?? "0x");
  }

  /**
   * A shared value for a check that does not own it: its failure becomes PrerequisiteUnavailable,
   * which the pipeline turns into "skipped".
   */
  async need<T>(name: string, value: () => Promise<T>): Promise<T> {
    try {
      return await value();
    } catch (error) {
      throw new PrerequisiteUnavailable(name, error);
    }
  }

  /** A value computed once per candidate however many checks ask for it. */
  shared<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.memo.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = compute();
      // A rejection is observed by whichever check awaits it; avoid an unhandled one meanwhile.
      value.catch(() => undefined);
      this.memo.set(key, value);
    }
    return value;
  }
}
