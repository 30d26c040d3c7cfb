// `sentinel bundle create`: the source bundle a candidate names, built from what a protocol's
// toolchain already writes (a Hardhat or Foundry build-info file: the exact compiler version and
// standard-JSON input). `sentinel policy hash`: a policy checked against the schema, and the hash
// its upgrade authority enrolls.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { encodeFunctionData, isHex, parseAbiItem, type Hex } from "viem";
import { BUNDLE_SCHEMA, bundleHash, encodeBundle, parseBundle, type SolcInput, type SourceBundle } from "../codec/bundle.ts";
import { DEFAULT_POLICY, parsePolicy, policyHash, type Policy } from "../codec/policy.ts";
import type { CommandIo } from "./keys.ts";
import { callerPath } from "./common.ts";

export const BUNDLE_USAGE = `Usage:
  sentinel bundle create --build-info <file> --contract <source:Name> --reference <source:Name> [options]
  sentinel policy hash <policy.json>

bundle create options:
  --build-info <file>            build-info of the new implementation (Hardhat artifacts/build-info/*.json,
                                 Foundry out/build-info/*.json): its solc version and standard-JSON input
  --contract <source:Name>       the new implementation, e.g. contracts/VaultV2.sol:VaultV2
  --reference <source:Name>      the implementation the proxy runs now
  --reference-build-info <file>  if the reference was compiled separately (else it must be in --build-info)
  --policy <file>                the protocol's policy (default: the strict default policy)
  --upgrade-call <0x…>           calldata passed to upgradeToAndCall, e.g. a reinitializer
  --initializer <signature> --args <json array>
                                 the same, encoded: --initializer "function initializeV2(uint256)" --args '["100"]'
  --out <file>                   where to write the bundle (default: stdout)

Prints (to stderr when the bundle goes to stdout) { sourceHash, policyHash }: the candidate's
sourceHash and policyHash.
`;

export async function runBundleCommand(argv: string[], io: CommandIo): Promise<number> {
  try {
    const [command, subcommand, ...rest] = argv;
    if (command === "policy" && subcommand === "hash") return policyHashCommand(rest, io);
    if (command === "bundle" && subcommand === "create") return createCommand(rest, io);
    io.stderr(BUNDLE_USAGE);
    return subcommand === "--help" || subcommand === "help" ? 0 : 2;
  } catch (error) {
    io.stderr(`sentinel ${argv[0]}: ${(error as Error).message}\n`);
    return 2;
  }
}

function policyHashCommand(argv: string[], io: CommandIo): number {
  if (argv.length !== 1) throw new Error("give one policy file");
  const policy = parsePolicy(readJson(argv[0]!));
  io.stdout(`${JSON.stringify({ policyHash: policyHash(policy), policy })}\n`);
  return 0;
}

function createCommand(argv: string[], io: CommandIo): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      "build-info": { type: "string" },
      contract: { type: "string" },
      reference: { type: "string" },
      "reference-build-info": { type: "string" },
      policy: { type: "string" },
      "upgrade-call": { type: "string" },
      initializer: { type: "string" },
      args: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  if (!values["build-info"] || !values.contract || !values.reference) throw new Error("--build-info, --contract and --reference are required");
  const implementation = readBuildInfo(values["build-info"]);
  const reference: SourceBundle["reference"] = { contract: values.reference };
  const referenceBuild = values["reference-build-info"] ? readBuildInfo(values["reference-build-info"]) : undefined;
  if (referenceBuild) {
    reference.compiler = referenceBuild.compiler;
    reference.input = referenceBuild.input;
  }
  const policy: Policy = values.policy ? parsePolicy(readJson(values.policy)) : DEFAULT_POLICY;
  // parseBundle checks everything the nodes will check, so a bad bundle fails here, not there.
  const bundle = parseBundle({
    schema: BUNDLE_SCHEMA,
    implementation: { compiler: implementation.compiler, contract: values.contract, input: implementation.input },
    reference,
    upgradeCall: upgradeCall(values["upgrade-call"], values.initializer, values.args),
    policy,
  });
  // After parseBundle, which names a malformed build first: then the names must exist in it.
  requireContract(implementation, values["build-info"], values.contract, "--contract");
  requireContract(referenceBuild ?? implementation, values["reference-build-info"] ?? values["build-info"], values.reference, "--reference");
  const text = new TextDecoder().decode(encodeBundle(bundle));
  const summary = `${JSON.stringify({ sourceHash: bundleHash(bundle), policyHash: policyHash(bundle.policy), bytes: text.length })}\n`;
  if (values.out) {
    writeFileSync(callerPath(values.out), text);
    io.stdout(summary);
  } else {
    io.stdout(`${text}\n`);
    io.stderr(summary);
  }
  return 0;
}

function upgradeCall(raw: string | undefined, initializer: string | undefined, args: string | undefined): Hex {
  if (raw !== undefined && initializer !== undefined) throw new Error("give --upgrade-call or --initializer, not both");
  if (raw !== undefined) {
    if (!isHex(raw)) throw new Error("--upgrade-call must be 0x-prefixed hex");
    return raw;
  }
  if (initializer === undefined) return "0x";
  const item = parseAbiItem(initializer.startsWith("function ") ? initializer : `function ${initializer}`);
  if (item.type !== "function") throw new Error("--initializer must be a function signature");
  let parsedArgs: unknown[] = [];
  if (args !== undefined) {
    try {
      parsedArgs = JSON.parse(args) as unknown[];
    } catch {
      throw new Error(`--args must be a JSON array, such as '["100", "0x…"]'`);
    }
    if (!Array.isArray(parsedArgs)) throw new Error(`--args must be a JSON array, such as '["100", "0x…"]'`);
  }
  return encodeFunctionData({ abi: [item], functionName: item.name, args: parsedArgs });
}

interface BuildInfo {
  compiler: string;
  input: SolcInput;
  /** The compiler's output, when the build-info carries it (Hardhat and Foundry write it). */
  contracts: Record<string, Record<string, unknown>> | undefined;
}

/**
 * A bundle naming a contract its build does not hold would be refused by every node (and only
 * after a compile): say so now, with the names the file does hold. The compiler's output decides
 * when the build-info has one for that source; otherwise the source must declare it.
 */
function requireContract(build: BuildInfo, path: string, qualified: string, flag: string): void {
  const colon = qualified.lastIndexOf(":");
  if (colon <= 0) return; // parseBundle names the malformed form
  const source = qualified.slice(0, colon);
  const name = qualified.slice(colon + 1);
  const sources = build.input.sources as Record<string, { content?: unknown }> | undefined;
  if (!sources || !Object.hasOwn(sources, source)) {
    throw new Error(`${flag} ${qualified}: ${path} has no source ${source} (it has ${Object.keys(sources ?? {}).slice(0, 8).join(", ")}${Object.keys(sources ?? {}).length > 8 ? ", …" : ""})`);
  }
  // An output without the source (Hardhat 3 keeps outputs apart; some tools write none) says nothing.
  const compiled = build.contracts !== undefined && Object.hasOwn(build.contracts, source) ? build.contracts[source] : undefined;
  const content = sources[source]?.content;
  if (!compiled && typeof content !== "string") return; // parseBundle names a source without its text
  const declared = compiled
    ? Object.keys(compiled)
    : [...String(sources[source]?.content ?? "").matchAll(/\b(?:abstract\s+contract|contract|library|interface)\s+([A-Za-z_$][A-Za-z0-9_$]*)/g)].map((m) => m[1]!);
  if (!declared.includes(name)) {
    throw new Error(`${flag} ${qualified}: ${source} in ${path} has no contract ${name} (it has ${declared.join(", ") || "none"})`);
  }
}

/** Hardhat writes solcLongVersion; Foundry writes solcLongVersion or solcVersion plus a full version. */
function readBuildInfo(path: string): BuildInfo {
  const info = readJson(path) as { solcLongVersion?: string; solcVersion?: string; input?: SolcInput; output?: { contracts?: Record<string, Record<string, unknown>> } };
  const compiler = info.solcLongVersion ?? info.solcVersion;
  if (typeof compiler !== "string" || !compiler.includes("+commit.")) {
    throw new Error(`${path}: no full solc version (solcLongVersion such as "0.8.28+commit.7893614a")`);
  }
  if (!info.input || typeof info.input !== "object") throw new Error(`${path}: no standard-JSON "input"`);
  const contracts = info.output?.contracts && typeof info.output.contracts === "object" ? info.output.contracts : undefined;
  return { compiler: compiler.replace(/\.Emscripten\.clang$/, ""), input: info.input, contracts };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(callerPath(path), "utf8"));
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
}
