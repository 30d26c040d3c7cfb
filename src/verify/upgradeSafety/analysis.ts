// Upgrade safety and storage layout, judged by OpenZeppelin upgrades-core: the field's reference
// for both, used here as its own CLI (`validateUpgradeSafety`) uses it. Each build is validated
// once (`validate`, with the ERC-7201 namespaced compilation it needs), then the new
// implementation's validation errors for the proxy kind (`getErrors`) become "upgrade-safety"
// findings, and the operations that make the new layout incompatible with the reference's
// (`getStorageUpgradeReport`) become "storage-layout" findings. Annotations such as
// `@custom:oz-upgrades-unsafe-allow` are honoured by upgrades-core itself. upgrades-core is
// reached through upgradesCore.ts only, which holds its process-wide patches.
//
// Findings are chain facts only: the same builds give byte-identical findings on every node (no
// absolute paths, no timings, upgrades-core's own deterministic order). What a proposer got wrong
// (a contract that is not in its build, an annotation upgrades-core refuses) becomes a finding;
// what the caller got wrong (a build without AST, bytecode or compiled with errors) throws.
import type { SolcInput } from "../../codec/bundle.ts";
import type { Finding } from "../pipeline.ts";
import type { CheckName } from "../../codec/policy.ts";
import type { ReasonCode } from "../reasons.ts";
import type { Compile, ProxyKind, SolcOutput, UpgradeBuild, UpgradeSafetyFindings } from "./types.ts";
import {
  getContractVersion,
  getErrors,
  getStorageLayout,
  getStorageUpgradeReport,
  isGap,
  isNamespaceSupported,
  LayoutCompatibilityReport,
  makeNamespacedInput,
  trySanitizeNatSpec,
  UpgradeableContractErrorReport,
  UpgradesError,
  validate,
  withValidationDefaults,
  type OzSolcInput,
  type OzSolcOutput,
  type StorageLayout,
  type ValidationRunData,
} from "./upgradesCore.ts";

const UPGRADE_SAFETY_CHECK: CheckName = "upgrade-safety";
const STORAGE_LAYOUT_CHECK: CheckName = "storage-layout";

/**
 * Checks the new implementation as upgrades-core would before `upgradeProxy`: its validation
 * errors for the proxy kind, and its storage layout against the reference (the implementation the
 * proxy points at now), namespaced ERC-7201 storage included. `compile` runs the namespaced
 * compilations upgrades-core needs (storage layout and AST only, no optimizer).
 *
 * @example
 * const { upgradeSafety, storageLayout } = await checkUpgradeSafety(
 *   { implementation: v2Build, reference: v1Build, kind: "uups" },
 *   (version, input) => compiler.compile(version, input),
 * );
 */
export async function checkUpgradeSafety(
  params: { implementation: UpgradeBuild; reference: UpgradeBuild; kind: ProxyKind },
  compile: Compile,
): Promise<UpgradeSafetyFindings> {
  const { implementation, reference, kind } = params;
  const implementationAnalysis = await analyse(implementation, compile);
  // A bundle without its own reference input names a contract of the implementation's build:
  // that build is validated once.
  const sameBuild =
    reference.output === implementation.output && reference.input === implementation.input && reference.version === implementation.version;
  const referenceAnalysis = await analyse(reference, compile, sameBuild ? implementationAnalysis.validation : undefined);
  return {
    upgradeSafety: upgradeSafetyFindings(implementationAnalysis, kind),
    storageLayout: storageLayoutFindings(referenceAnalysis, implementationAnalysis, kind),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation of one build

/** upgrades-core's validation of a whole build. */
interface BuildValidation {
  /** Undefined when upgrades-core refused the build (`problem` says why). */
  runData?: ValidationRunData;
  problem?: string;
  /** Why the namespaced layouts are unknown, though there are validation data. */
  layoutProblem?: string;
}

/** One contract of a build, as upgrades-core sees it. */
interface Analysis {
  contract: string;
  validation?: BuildValidation;
  runData?: ValidationRunData;
  /** Why there are no validation data for the contract (then upgrade safety cannot be judged). */
  problem?: string;
  /** Why there is no layout for the contract, though there may be validation data. */
  layoutProblem?: string;
}

async function analyse(build: UpgradeBuild, compile: Compile, validated?: BuildValidation): Promise<Analysis> {
  const output = completeOutput(build);
  const contract = build.contract;
  const separator = contract.lastIndexOf(":");
  const compiled = output.contracts[contract.slice(0, separator)]?.[contract.slice(separator + 1)];
  if (compiled === undefined) return { contract, problem: `contract ${contract} is not in its build (wrong source path or contract name)` };
  if (compiled.evm.bytecode.object === "") return { contract, problem: `contract ${contract} is abstract or an interface: it has no bytecode` };

  const validation = validated ?? (await validateBuild(build, output, compile));
  const analysis: Analysis = { contract, validation };
  if (validation.runData !== undefined) analysis.runData = validation.runData;
  if (validation.problem !== undefined) analysis.problem = `upgrades-core cannot validate ${contract}: ${validation.problem}`;
  if (compiled.storageLayout === undefined) analysis.layoutProblem = `the build has no storage layout for ${contract}`;
  else if (validation.layoutProblem !== undefined) analysis.layoutProblem = validation.layoutProblem;
  return analysis;
}

async function validateBuild(build: UpgradeBuild, output: OzSolcOutput, compile: Compile): Promise<BuildValidation> {
  const solcVersion = shortVersion(build.version);
  const input = build.input as unknown as OzSolcInput;
  try {
    let namespacedOutput: OzSolcOutput | undefined;
    let layoutProblem: string | undefined;
    const namespaced = await (build.namespaced ?? namespacedCompilation(build, output, compile));
    if (typeof namespaced === "string") layoutProblem = namespaced;
    else if (namespaced !== undefined) namespacedOutput = namespaced as OzSolcOutput;
    const runData = validate(output, sourceDecoder(input, output), solcVersion, input, namespacedOutput);
    return layoutProblem === undefined ? { runData } : { runData, layoutProblem };
  } catch (error) {
    if (!refusesSource(error)) throw error;
    return { problem: firstLine(error.message) };
  }
}

/**
 * Whether upgrades-core threw because of the sources (an UpgradesError, or one of the plain errors
 * it throws on a malformed annotation) rather than because of a bug.
 */
function refusesSource(error: unknown): error is Error {
  if (error instanceof UpgradesError) return true;
  if (!(error instanceof Error)) return false;
  // utils/annotations.js, storage/namespace.js, validate/run/initializer.js
  return /^NatSpec: .* argument not recognized|@custom:[\w-]+ annotation must/.test(error.message);
}

/**
 * The namespaced compilation of a build, if it needs one (a source declares an ERC-7201 namespace
 * and the compiler supports them): see compileNamespaced. `syntax` needs the ASTs only, so the
 * pipeline starts this as soon as they exist (UpgradeBuild.namespaced), before the code is compiled.
 * Throws what upgrades-core throws on sources it refuses; validation reports that as a problem.
 */
export async function namespacedCompilation(
  build: Pick<UpgradeBuild, "version" | "input">,
  syntax: SolcOutput,
  compile: Compile,
): Promise<OzSolcOutput | string | undefined> {
  const solcVersion = shortVersion(build.version);
  if (!hasNamespaceAnnotation(build.input) || !isNamespaceSupported(solcVersion)) return undefined;
  return compileNamespaced(build, syntax as unknown as OzSolcOutput, solcVersion, compile);
}

/**
 * The second compilation upgrades-core needs for ERC-7201 namespaces: the sources rewritten so
 * that every namespaced struct is a state variable (`makeNamespacedInput`, NatSpec sanitised as
 * the Hardhat plugin does), compiled for storage layout and AST only. Returns the output, or why
 * it failed to compile (as the Hardhat plugin, an error: namespaced layouts cannot be checked).
 */
async function compileNamespaced(
  build: Pick<UpgradeBuild, "version" | "input">,
  output: OzSolcOutput,
  solcVersion: string,
  compile: Compile,
): Promise<OzSolcOutput | string> {
  const rewritten = makeNamespacedInput(build.input as unknown as OzSolcInput, output, solcVersion);
  const sanitised = await trySanitizeNatSpec(rewritten, solcVersion);
  const input: SolcInput = {
    ...build.input,
    sources: sanitised.sources as SolcInput["sources"],
    // Storage layout and AST do not depend on the optimizer; without it the compilation is cheaper.
    settings: { ...(sanitised.settings as Record<string, unknown>), optimizer: { enabled: false } },
  };
  const namespacedOutput = await compile(build.version, input);
  const error = (namespacedOutput.errors ?? []).find((e) => e.severity === "error");
  if (error !== undefined) {
    return `the namespaced compilation for ERC-7201 layouts failed: ${firstLine(error.formattedMessage ?? error.message ?? "unknown error")}`;
  }
  return namespacedOutput as unknown as OzSolcOutput;
}

/** The outputs upgrades-core reads; their absence is a bug of the caller, not of the proposer. */
function completeOutput(build: UpgradeBuild): OzSolcOutput {
  const output = build.output;
  const error = (output.errors ?? []).find((e) => e.severity === "error");
  if (error !== undefined) throw new Error(`the build of ${build.contract} has compiler errors: ${firstLine(error.formattedMessage ?? error.message ?? "")}`);
  for (const path of Object.keys(build.input.sources)) {
    const source = output.sources?.[path] as { ast?: unknown; id?: unknown } | undefined;
    if (source?.ast === undefined || typeof source.id !== "number") throw new Error(`the build of ${build.contract} has no AST for ${path}`);
  }
  for (const [path, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(contracts)) {
      const bytecode = (contract as { evm?: { bytecode?: { object?: unknown; linkReferences?: unknown } } }).evm?.bytecode;
      if (typeof bytecode?.object !== "string" || bytecode.linkReferences === undefined) {
        throw new Error(`the build of ${build.contract} has no evm.bytecode for ${path}:${name}`);
      }
    }
  }
  return { ...output, contracts: output.contracts ?? {} } as unknown as OzSolcOutput;
}

function hasNamespaceAnnotation(input: SolcInput): boolean {
  // The test upgrades-core itself applies to a source before looking for namespaces.
  return Object.values(input.sources).some((source) => /@custom:storage-location/.test(source.content));
}

/**
 * "path:line" of an AST node. upgrades-core's solcInputOutputDecoder names files relative to the
 * working directory and counts UTF-16 units where solc counts bytes; this one names the source as
 * the input does and counts bytes, so every node writes the same location.
 */
function sourceDecoder(input: OzSolcInput, output: OzSolcOutput): (node: { src: string }) => string {
  const pathById = new Map(Object.entries(output.sources).map(([path, source]) => [source.id, path]));
  const contents = new Map<number, Buffer>();
  return ({ src }) => {
    const [start = 0, , id = -1] = src.split(":").map(Number);
    const path = pathById.get(id);
    const content = path === undefined ? undefined : input.sources[path]?.content;
    if (path === undefined || content === undefined) return "unknown";
    let bytes = contents.get(id);
    if (bytes === undefined) contents.set(id, (bytes = Buffer.from(content, "utf8")));
    let line = 1;
    for (let i = bytes.indexOf(10); i !== -1 && i < start; i = bytes.indexOf(10, i + 1)) line++;
    return `${path}:${line}`;
  };
}

// ---------------------------------------------------------------------------------------------
// Upgrade safety

type ValidationError = ValidationRunData[string]["errors"][number];

const VALIDATION_CODES: Partial<Record<ValidationError["kind"], ReasonCode>> = {
  constructor: "OZ_CONSTRUCTOR",
  delegatecall: "OZ_DELEGATECALL",
  selfdestruct: "OZ_SELFDESTRUCT",
  "state-variable-assignment": "OZ_STATE_VARIABLE_ASSIGNMENT",
  "state-variable-immutable": "OZ_STATE_VARIABLE_IMMUTABLE",
  "external-library-linking": "OZ_EXTERNAL_LIBRARY_LINKING",
  "missing-public-upgradeto": "OZ_MISSING_PUBLIC_UPGRADETO",
  "internal-function-storage": "OZ_INTERNAL_FUNCTION_STORAGE",
  "missing-initializer": "OZ_MISSING_INITIALIZER",
  "missing-initializer-call": "OZ_MISSING_INITIALIZER_CALL",
  "duplicate-initializer-call": "OZ_DUPLICATE_INITIALIZER_CALL",
  "incorrect-initializer-order": "OZ_INCORRECT_INITIALIZER_ORDER",
};

/**
 * upgrades-core only warns about these kinds (on stderr); Sentinel rejects them like any other
 * error. They are still subject to the `@custom:oz-upgrades-unsafe-allow` annotations.
 */
const REJECTED_WARNINGS: ValidationError["kind"][] = ["incorrect-initializer-order"];

function upgradeSafetyFindings(analysis: Analysis, kind: ProxyKind): Finding[] {
  const { contract, runData } = analysis;
  if (runData === undefined) {
    return [reject(UPGRADE_SAFETY_CHECK, "OZ_OTHER", analysis.problem ?? `cannot validate ${contract}`, { contract })];
  }
  const version = getContractVersion(runData, contract);
  // Suppressing the warnings here keeps getErrors quiet; they are collected below, as getErrors
  // collects errors: the contract's own and its parents'.
  const errors = getErrors(runData, version, { kind, unsafeAllow: [...REJECTED_WARNINGS] });
  for (const name of [contract, ...(runData[contract]?.inherit ?? [])]) {
    errors.push(...(runData[name]?.errors ?? []).filter((error) => REJECTED_WARNINGS.includes(error.kind)));
  }
  const findings = unique(errors.map((error) => validationFinding(error, contract, kind)));
  if (findings.length > 0) return findings;
  return [{ check: UPGRADE_SAFETY_CHECK, code: "OK", severity: "info", message: `${contract} is upgrade safe for a ${kind} proxy` }];
}

function validationFinding(error: ValidationError, contract: string, kind: ProxyKind): Finding {
  const evidence: Record<string, string> = { kind: error.kind, contract, proxy: kind, src: error.src };
  if ("name" in error) evidence["name"] = error.name;
  if ("contract" in error) evidence["constructorOf"] = error.contract;
  if ("parentContracts" in error) evidence["parentContracts"] = error.parentContracts.join(", ");
  if ("parentInitializer" in error) evidence["parentInitializer"] = error.parentInitializer;
  if ("parentContract" in error) evidence["parentContract"] = error.parentContract;
  if ("expectedLinearization" in error) evidence["expectedOrder"] = error.expectedLinearization.join(", ");
  if ("foundOrder" in error) evidence["foundOrder"] = error.foundOrder.join(", ");
  // "src: message\n    hint\n    link": keep upgrades-core's message, on one line.
  const explained = new UpgradeableContractErrorReport([error]).explain(false).split("\n    ")[0] ?? error.kind;
  return reject(UPGRADE_SAFETY_CHECK, VALIDATION_CODES[error.kind] ?? "OZ_OTHER", oneLine(explained), evidence);
}

// ---------------------------------------------------------------------------------------------
// Storage layout

type StorageOperation = ReturnType<typeof getStorageUpgradeReport>["ops"][number];
type StorageField = Extract<StorageOperation, { kind: "delete" }>["original"];

function storageLayoutFindings(reference: Analysis, implementation: Analysis, kind: ProxyKind): Finding[] {
  const original = layoutOf(reference);
  if (typeof original === "string") return [reject(STORAGE_LAYOUT_CHECK, "STORAGE_LAYOUT_UNKNOWN", `reference: ${original}`, { contract: reference.contract })];
  const updated = layoutOf(implementation);
  if (typeof updated === "string") {
    return [reject(STORAGE_LAYOUT_CHECK, "STORAGE_LAYOUT_UNKNOWN", `implementation: ${updated}`, { contract: implementation.contract })];
  }

  const findings: Finding[] = [];
  const options = withValidationDefaults({ kind });
  try {
    // One comparison for the contract's own storage, one per namespace of the reference, so that
    // every operation is known to be in (or out of) a namespace; the union is upgrades-core's report.
    const ops = getStorageUpgradeReport(withoutNamespaces(original), withoutNamespaces(updated), options).ops;
    findings.push(...explained(ops).map((op) => storageFinding(op, reference.contract, implementation.contract)));
    for (const namespace of Object.keys(original.namespaces ?? {})) {
      const nsOps = getStorageUpgradeReport(onlyNamespace(original, namespace), onlyNamespace(updated, namespace), options).ops;
      findings.push(...explained(nsOps).map((op) => storageFinding(op, reference.contract, implementation.contract, namespace)));
    }
  } catch (error) {
    if (!(error instanceof UpgradesError)) throw error;
    const message = `upgrades-core cannot compare the layouts: ${firstLine(error.message)}`;
    return [reject(STORAGE_LAYOUT_CHECK, "STORAGE_OTHER", message, { reference: reference.contract, contract: implementation.contract })];
  }
  if (findings.length > 0) return unique(findings);
  const message = `the storage layout of ${implementation.contract} is compatible with ${reference.contract}`;
  return [{ check: STORAGE_LAYOUT_CHECK, code: "OK", severity: "info", message }];
}

function layoutOf(analysis: Analysis): StorageLayout | string {
  if (analysis.runData === undefined) return analysis.problem ?? `cannot validate ${analysis.contract}`;
  if (analysis.layoutProblem !== undefined) return analysis.layoutProblem;
  return getStorageLayout(analysis.runData, getContractVersion(analysis.runData, analysis.contract));
}

function withoutNamespaces(layout: StorageLayout): StorageLayout {
  const { namespaces: _namespaces, ...rest } = layout;
  return rest;
}

function onlyNamespace(layout: StorageLayout, namespace: string): StorageLayout {
  const items = layout.namespaces?.[namespace];
  return { ...layout, storage: [], namespaces: items === undefined ? {} : { [namespace]: items } };
}

/**
 * upgrades-core explains a "layoutchange" only when it comes first: later ones are the
 * consequence of an earlier operation (every variable after an insertion moves).
 */
function explained(ops: StorageOperation[]): StorageOperation[] {
  return ops.filter((op, i) => op.kind !== "layoutchange" || i === 0);
}

function storageCode(op: StorageOperation, namespace: string | undefined): ReasonCode {
  if (namespace !== undefined || op.kind === "delete-namespace") return "STORAGE_NAMESPACE_CHANGED";
  const gap = ("original" in op && "type" in op.original && isGap(op.original)) || ("updated" in op && isGap(op.updated));
  switch (op.kind) {
    case "shrinkgap":
    case "finishgap":
      return "STORAGE_GAP_MISUSED";
    case "insert":
      return gap ? "STORAGE_GAP_MISUSED" : "STORAGE_INSERTED";
    case "delete":
      return gap ? "STORAGE_GAP_MISUSED" : "STORAGE_DELETED";
    case "rename":
      return gap ? "STORAGE_GAP_MISUSED" : "STORAGE_RENAMED";
    case "replace":
      return gap ? "STORAGE_GAP_MISUSED" : "STORAGE_REPLACED";
    case "typechange":
      if (gap) return "STORAGE_GAP_MISUSED";
      return op.change.kind === "unknown" || op.change.kind === "missing members" ? "STORAGE_OTHER" : "STORAGE_TYPE_CHANGED";
    case "layoutchange":
      return gap ? "STORAGE_GAP_MISUSED" : "STORAGE_OTHER";
    default:
      // "append" is never incompatible; anything upgrades-core adds later is not ours to name.
      return "STORAGE_OTHER";
  }
}

function storageFinding(op: StorageOperation, reference: string, contract: string, namespace?: string): Finding {
  const evidence: Record<string, string> = { kind: op.kind, reference, contract };
  if (namespace !== undefined) evidence["namespace"] = namespace;
  if (op.kind === "delete-namespace") {
    evidence["namespace"] = op.namespace;
    evidence["namespaceContract"] = op.original.contract;
  } else {
    if ("original" in op) describeField(evidence, "", op.original);
    if ("updated" in op) describeField(evidence, "original" in op ? "new" : "", op.updated);
    if (op.kind === "typechange" || op.kind === "shrinkgap") evidence["change"] = op.change.kind;
  }
  // "src:\n  title\n  - detail\n  > hint": upgrades-core's explanation, on one line.
  const text = oneLine(new LayoutCompatibilityReport([op]).explain(false));
  const message = namespace === undefined ? text : `namespace ${namespace}: ${text}`;
  return reject(STORAGE_LAYOUT_CHECK, storageCode(op, namespace), message, evidence);
}

/**
 * variable, type, slot, offset, src (prefixed "new…" for the updated side of a change). In a
 * namespace, slots count from the namespace's root (its ERC-7201 location is in `namespace`).
 */
function describeField(evidence: Record<string, string>, prefix: string, field: StorageField): void {
  const key = (name: string) => (prefix === "" ? name : prefix + name[0]!.toUpperCase() + name.slice(1));
  evidence[key("variable")] = field.label;
  evidence[key("type")] = field.type.item.label;
  if (field.slot !== undefined) evidence[key("slot")] = field.slot;
  if (field.offset !== undefined) evidence[key("offset")] = String(field.offset);
  if ("src" in field && typeof field.src === "string") evidence[key("src")] = field.src;
}

// ---------------------------------------------------------------------------------------------

function reject(check: CheckName, code: ReasonCode, message: string, evidence: Record<string, string>): Finding {
  return { check, code, severity: "reject", message, evidence };
}

/** Drops repeated findings (upgrades-core may reach one error through two parents), keeping order. */
function unique(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = JSON.stringify(finding);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function shortVersion(version: string): string {
  return version.split("+")[0] ?? version;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

function oneLine(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}
