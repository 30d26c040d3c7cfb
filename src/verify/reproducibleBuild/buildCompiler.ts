// Compiling what a bundle names: a BuildSpec in, the named contract and its whole compilation
// out, with the outputs every check reads. One BuildCompiler per process (it owns the solc workers).
import type { BuildSpec, SolcInput } from "../../codec/bundle.ts";
import { CompilationFailedError, findContract, SolcCompilers, withVerificationOutputs, type SolcOutput, type SolcCompilersOptions } from "../compiler/index.ts";
import type { CompiledBuild } from "../context.ts";
import { ContractNotInOutput } from "./errors.ts";

export class BuildCompiler {
  readonly compilers: SolcCompilers;

  constructor(options: SolcCompilersOptions) {
    this.compilers = new SolcCompilers(options);
  }

  async build(spec: BuildSpec): Promise<CompiledBuild> {
    const { output } = await this.compilers.compile(spec.compiler, withVerificationOutputs(spec.input));
    const contract = findContract(output, spec.contract);
    if (!contract) {
      throw new ContractNotInOutput(spec.contract, `the compilation has no contract ${spec.contract} (sources: ${Object.keys(output.contracts).slice(0, 5).join(", ")}…)`);
    }
    return { spec, output, contract };
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
}
