// Compiling what a bundle names: a BuildSpec in, the named contract and its whole compilation
// out, with the outputs every check reads. One BuildCompiler per process (it owns the solc workers).
//
// A build is two compiles of the same input run at once on two workers of its version: the code
// (bytecode, ABI, metadata; the optimizer's work) and the syntax (storage layouts and ASTs;
// analysis only). They are merged into exactly what one compile asking for both would give, and
// the syntax, ready first, is available on its own (`syntax`) so that upgrades-core's namespaced
// compilation can start while the code is still compiling.
import type { BuildSpec, SolcInput } from "../../codec/bundle.ts";
import {
  CompilationFailedError,
  findContract,
  mergeBuildOutputs,
  SolcCompilers,
  withCodeOutputs,
  withSyntaxOutputs,
  type SolcCompilersOptions,
  type SolcOutput,
} from "../compiler/index.ts";
import type { CompiledBuild } from "../context.ts";
import { ContractNotInOutput } from "./errors.ts";

export class BuildCompiler {
  readonly compilers: SolcCompilers;
  /** Merged outputs by their halves: builds of one input (V1 and V2 of one bundle) share one object. */
  readonly #merged = new WeakMap<SolcOutput, WeakMap<SolcOutput, SolcOutput>>();

  constructor(options: SolcCompilersOptions) {
    this.compilers = new SolcCompilers(options);
  }

  async build(spec: BuildSpec): Promise<CompiledBuild> {
    const [code, syntax] = await Promise.allSettled([this.compilers.compile(spec.compiler, withCodeOutputs(spec.input)), this.syntax(spec)]);
    // The code half's failure first: its compile reports everything the single compile did, and
    // whichever half failed first in time must not decide the message a verdict signs.
    if (code.status === "rejected") throw code.reason;
    if (syntax.status === "rejected") throw syntax.reason;
    const output = this.#merge(code.value.output, syntax.value);
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

  #merge(code: SolcOutput, syntax: SolcOutput): SolcOutput {
    let bySyntax = this.#merged.get(code);
    if (bySyntax === undefined) this.#merged.set(code, (bySyntax = new WeakMap()));
    let merged = bySyntax.get(syntax);
    if (merged === undefined) bySyntax.set(syntax, (merged = mergeBuildOutputs(code, syntax)));
    return merged;
  }
}
