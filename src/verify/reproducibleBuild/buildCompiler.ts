// Compiling what a bundle names: a BuildSpec in, the named contract and its whole compilation
// out, with the outputs every check reads. One BuildCompiler per process (it owns the solc workers).
//
// A build is two compiles of the same input run at once on two workers of its version: the code
// (bytecode, ABI, metadata; the optimizer's work) and the syntax (storage layouts and ASTs;
// analysis only). They are merged into exactly what one compile asking for both would give, and
// the syntax, ready first, is available on its own (`syntax`) so that upgrades-core's namespaced
// compilation can start while the code is still compiling. The code is cached per source file
// too (fileKeys.ts), so a bundle whose V2 changed compiles V2's code only; an entry is used only
// where this input's own metadata (from the syntax half) proves it is the same contract.
import type { Hex } from "viem";
import type { BuildSpec, SolcInput } from "../../codec/bundle.ts";
import {
  CompilationFailedError,
  fileCodeKeys,
  findContract,
  mergeBuildOutputs,
  SolcCompilers,
  withCodeOutputs,
  withCodeOutputsFor,
  withSyntaxOutputs,
  type SolcCompilersOptions,
  type SolcContractOutput,
  type SolcOutput,
} from "../compiler/index.ts";
import type { CompiledBuild } from "../context.ts";
import { ContractNotInOutput } from "./errors.ts";

export class BuildCompiler {
  readonly compilers: SolcCompilers;
  /** Merged outputs by their halves: builds of one input (V1 and V2 of one bundle) share one object. */
  readonly #merged = new WeakMap<SolcOutput, WeakMap<SolcOutput, SolcOutput>>();
  /** The code half in flight, by input object and version: V1 and V2 of one bundle look it up and compile it once. */
  readonly #codeOf = new WeakMap<SolcInput, Map<string, Promise<SolcOutput>>>();

  constructor(options: SolcCompilersOptions) {
    this.compilers = new SolcCompilers(options);
  }

  async build(spec: BuildSpec): Promise<CompiledBuild> {
    const syntaxHalf = this.syntax(spec);
    const [code, syntax] = await Promise.allSettled([this.#sharedCode(spec, syntaxHalf), syntaxHalf]);
    // The code half's failure first: its compile reports everything the single compile did, and
    // whichever half failed first in time must not decide the message a verdict signs.
    if (code.status === "rejected") throw code.reason;
    if (syntax.status === "rejected") throw syntax.reason;
    const output = this.#merge(code.value, syntax.value);
    const contract = findContract(output, spec.contract);
    if (!contract) {
      throw new ContractNotInOutput(spec.contract, `the compilation has no contract ${spec.contract} (sources: ${Object.keys(output.contracts).slice(0, 5).join(", ")}…)`);
    }
    return { spec, output, contract };
  }

  /** The storage layouts and ASTs of a build, before its code: the same compile `build` runs, shared. */
  async syntax(spec: BuildSpec): Promise<SolcOutput> {
    return (await this.compilers.compile(spec.compiler, withSyntaxOutputs(spec.input))).output;
  }

  /**
   * A compile exactly as given (upgrades-core's namespaced layout compilation). Compiler errors
   * are returned in the output, as upgrades-core expects, not thrown.
   */
  async compile(version: string, input: SolcInput): Promise<SolcOutput> {
    try {
      return (await this.compilers.compile(version, input)).output;
    } catch (error) {
      if (error instanceof CompilationFailedError) return { contracts: {}, sources: {}, errors: [...error.errors] };
      throw error;
    }
  }

  close(): Promise<void> {
    return this.compilers.close();
  }

  #sharedCode(spec: BuildSpec, syntaxHalf: Promise<SolcOutput>): Promise<SolcOutput> {
    let byVersion = this.#codeOf.get(spec.input);
    if (byVersion === undefined) this.#codeOf.set(spec.input, (byVersion = new Map()));
    let code = byVersion.get(spec.compiler);
    if (code === undefined) {
      const started = this.#code(spec, syntaxHalf);
      // Shared while in flight only, as compile() shares requests: what is kept is the caches' business.
      started.then(
        () => byVersion.delete(spec.compiler),
        () => byVersion.delete(spec.compiler),
      );
      byVersion.set(spec.compiler, (code = started));
    }
    return code;
  }

  /**
   * Code for every contract of the build. Each source file's contracts come from the per-file
   * cache (fileKeys.ts) when an entry exists and every contract in it has the metadata the syntax
   * half gives it in this input; the other files are compiled, for their contracts alone, and
   * stored. With no entry at all it is one compile of everything, as without the cache. The
   * messages are those of the first code compile that ran (the syntax half's if none did): solc
   * reports code-generation warnings only for the contracts it generates code for.
   */
  async #code(spec: BuildSpec, syntaxHalf: Promise<SolcOutput>): Promise<SolcOutput> {
    const { compiler: version, input } = spec;
    const keys = fileCodeKeys(version, input);
    if (keys === undefined) return (await this.compilers.compile(version, withCodeOutputs(input))).output;
    const cached = new Map<string, Readonly<Record<string, SolcContractOutput>>>();
    await Promise.all(
      [...keys].map(async ([file, key]) => {
        const contracts = (await this.compilers.lookup(key, version))?.contracts[file];
        if (contracts !== undefined) cached.set(file, contracts);
      }),
    );
    if (cached.size === 0) {
      const { output } = await this.compilers.compile(version, withCodeOutputs(input));
      this.#store(keys, version, output, [...keys.keys()]);
      return output;
    }
    const compile = (files: string[]) => (files.length === 0 ? undefined : this.compilers.compile(version, withCodeOutputsFor(input, files)));
    const missing = [...keys.keys()].filter((file) => !cached.has(file));
    const first = await compile(missing);
    const { contracts: expected } = await syntaxHalf;
    const refused = [...cached].filter(([file, contracts]) => !sameMetadata(contracts, expected[file] ?? {})).map(([file]) => file);
    for (const file of refused) cached.delete(file);
    const second = await compile(refused);
    this.compilers.countFileCode(cached.size, refused.length);
    const contracts: SolcOutput["contracts"] = {};
    for (const file of [...keys.keys()].sort()) {
      const fresh = first?.output.contracts[file] ?? second?.output.contracts[file];
      const byName = cached.get(file) ?? fresh;
      if (byName !== undefined && Object.keys(byName).length > 0) contracts[file] = byName;
    }
    if (first) this.#store(keys, version, first.output, missing);
    if (second) this.#store(keys, version, second.output, refused);
    const errors = (first ?? second)?.output.errors ?? (await syntaxHalf).errors;
    return Object.freeze({ contracts: Object.freeze(contracts), sources: {}, errors });
  }

  /** Each of `files`' contracts (none: an empty entry, also worth knowing) under the file's key. */
  #store(keys: ReadonlyMap<string, Hex>, version: string, output: SolcOutput, files: readonly string[]): void {
    for (const file of files) this.compilers.store(keys.get(file)!, version, { contracts: { [file]: output.contracts[file] ?? {} } });
  }

  #merge(code: SolcOutput, syntax: SolcOutput): SolcOutput {
    let bySyntax = this.#merged.get(code);
    if (bySyntax === undefined) this.#merged.set(code, (bySyntax = new WeakMap()));
    let merged = bySyntax.get(syntax);
    if (merged === undefined) bySyntax.set(syntax, (merged = mergeBuildOutputs(code, syntax)));
    return merged;
  }
}

/** The same contracts, each with the same metadata: then the same code (see fileKeys.ts). */
function sameMetadata(cached: Readonly<Record<string, SolcContractOutput>>, expected: Readonly<Record<string, SolcContractOutput>>): boolean {
  const names = Object.keys(expected);
  if (Object.keys(cached).length !== names.length) return false;
  return names.every((name) => {
    const metadata = expected[name]?.metadata;
    return metadata !== undefined && cached[name]?.metadata === metadata;
  });
}
