// A source bundle: everything a node needs to check a candidate beyond the chain itself. It is
// content-addressed (candidate.sourceHash = keccak256 of its canonical JSON) and travels by the
// bundle request/response protocol, never by gossip.
import { isHex, type Hex } from "viem";
import { canonicalJson, contentHash } from "./canonicalJson.ts";
import { parsePolicy, type Policy } from "./policy.ts";
import { SentinelError } from "../errors.ts";
import { parseUntrustedJson } from "../util/json.ts";

export const BUNDLE_SCHEMA = "sentinel.bundle/1";

/** A node neither accepts nor serves a bundle above this (an OpenZeppelin token's is ~0.3 MiB). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

/** A solc standard-JSON input, as `solc --standard-json` takes it. */
export interface SolcInput {
  language: "Solidity";
  sources: Record<string, { content: string }>;
  settings: Record<string, unknown>;
}

/** One contract, built from its exact sources with its exact compiler. */
export interface BuildSpec {
  /** Full solc version, as the metadata names it: "0.8.28+commit.7893614a". */
  compiler: string;
  /** Fully qualified contract name: "src/Token.sol:TokenV2". */
  contract: string;
  input: SolcInput;
}

export interface SourceBundle {
  schema: typeof BUNDLE_SCHEMA;
  /** Compiled, it must reproduce the runtime code at candidate.implementation. */
  implementation: BuildSpec;
  /**
   * The implementation the proxy points at now. Compiled, it must reproduce that code: the
   * storage layout the upgrade is checked against is proven, not trusted. Without `input` and
   * `compiler` it is built from the implementation's.
   */
  reference: { contract: string; compiler?: string; input?: SolcInput };
  /** The data of upgradeToAndCall: the initializer call made with the upgrade, "0x" for none. */
  upgradeCall: Hex;
  /** The protocol's policy; its hash must be the one the upgrade authority enrolled. */
  policy: Policy;
}

export interface BundleFormatErrorMeta {
  field: string;
  /** What is wrong with the field, without its name. */
  reason: string;
}

/** A source bundle that does not parse; one code, the field says where. */
export class BundleFormatError extends SentinelError<"INVALID_BUNDLE", BundleFormatErrorMeta> {
  override name = "BundleFormatError";
  constructor(field: string, reason: string) {
    super("INVALID_BUNDLE", `${field}: ${reason}`, { field, reason });
  }

  get field(): string {
    return this.meta.field;
  }

  get reason(): string {
    return this.meta.reason;
  }
}

export function bundleHash(bundle: SourceBundle): Hex {
  return contentHash(bundle);
}

export function encodeBundle(bundle: SourceBundle): Uint8Array {
  return new TextEncoder().encode(canonicalJson(bundle));
}

/** The reference build with its defaults filled in from the implementation's. */
export function referenceBuild(bundle: SourceBundle): BuildSpec {
  return {
    contract: bundle.reference.contract,
    compiler: bundle.reference.compiler ?? bundle.implementation.compiler,
    input: bundle.reference.input ?? bundle.implementation.input,
  };
}

/** Parses untrusted bytes into a SourceBundle; throws BundleFormatError naming the field. */
export function decodeBundle(bytes: Uint8Array): SourceBundle {
  if (bytes.byteLength > MAX_BUNDLE_BYTES) throw new BundleFormatError("bundle", `${bytes.byteLength} bytes, above ${MAX_BUNDLE_BYTES}`);
  let root: unknown;
  try {
    root = parseUntrustedJson(bytes);
  } catch (error) {
    throw new BundleFormatError("bundle", `not UTF-8 JSON: ${(error as Error).message}`);
  }
  return parseBundle(root);
}

export function parseBundle(root: unknown): SourceBundle {
  const b = object(root, "bundle");
  only(b, "bundle", ["schema", "implementation", "reference", "upgradeCall", "policy"]);
  if (b["schema"] !== BUNDLE_SCHEMA) throw new BundleFormatError("schema", `must be "${BUNDLE_SCHEMA}"`);
  const implementation = buildSpec(b["implementation"], "implementation");
  const r = object(b["reference"], "reference");
  only(r, "reference", ["contract", "compiler", "input"]);
  const reference: SourceBundle["reference"] = { contract: contractName(r["contract"], "reference.contract") };
  if (r["compiler"] !== undefined) reference.compiler = compilerVersion(r["compiler"], "reference.compiler");
  if (r["input"] !== undefined) reference.input = solcInput(r["input"], "reference.input");
  const upgradeCall = b["upgradeCall"];
  if (!isHex(upgradeCall, { strict: true }) || upgradeCall.length % 2 !== 0) {
    throw new BundleFormatError("upgradeCall", 'must be 0x-prefixed hex of whole bytes ("0x" for no call)');
  }
  let policy: Policy;
  try {
    policy = parsePolicy(b["policy"]);
  } catch (error) {
    throw new BundleFormatError("policy", (error as Error).message);
  }
  return { schema: BUNDLE_SCHEMA, implementation, reference, upgradeCall: upgradeCall.toLowerCase() as Hex, policy };
}

function buildSpec(value: unknown, field: string): BuildSpec {
  const s = object(value, field);
  only(s, field, ["compiler", "contract", "input"]);
  return {
    compiler: compilerVersion(s["compiler"], `${field}.compiler`),
    contract: contractName(s["contract"], `${field}.contract`),
    input: solcInput(s["input"], `${field}.input`),
  };
}

function compilerVersion(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^\d+\.\d+\.\d+\+commit\.[0-9a-f]{8}$/.test(value)) {
    throw new BundleFormatError(field, 'must be a full solc version such as "0.8.28+commit.7893614a"');
  }
  return value;
}

function contractName(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^[^:]+\.sol:[A-Za-z_$][A-Za-z0-9_$]*$/.test(value)) {
    throw new BundleFormatError(field, 'must be a fully qualified name such as "src/Token.sol:TokenV2"');
  }
  return value;
}

function solcInput(value: unknown, field: string): SolcInput {
  const input = object(value, field);
  if (input["language"] !== "Solidity") throw new BundleFormatError(`${field}.language`, 'must be "Solidity"');
  const sources = object(input["sources"], `${field}.sources`);
  for (const [path, source] of Object.entries(sources)) {
    const content = object(source, `${field}.sources[${path}]`)["content"];
    if (typeof content !== "string") {
      throw new BundleFormatError(`${field}.sources[${path}].content`, "must be the file's text (urls are not fetched)");
    }
    hashable(source, `${field}.sources[${path}]`);
  }
  const settings = object(input["settings"] ?? {}, `${field}.settings`);
  hashable(settings, `${field}.settings`);
  return { language: "Solidity", sources: sources as SolcInput["sources"], settings };
}

/** Free-form parts are kept as given, so they must be content-addressable (no floats, no huge integers). */
function hashable(value: unknown, field: string): void {
  try {
    canonicalJson(value, field);
  } catch (error) {
    throw new BundleFormatError(field, (error as Error).message);
  }
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new BundleFormatError(field, "must be an object");
  return value as Record<string, unknown>;
}

function only(value: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new BundleFormatError(`${field}.${key}`, `unknown field (expected one of ${keys.join(", ")})`);
  }
}
