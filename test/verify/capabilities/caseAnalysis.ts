// A corpus case's two implementations compiled (real solc, the shared test cache), and a pinned
// state in memory: the analysis without a chain, for tests that look at its findings in detail.
import { dirname, join } from "node:path";
import { DEFAULT_FIXTURE_SETTINGS, fixtureInput, readUpgradeCase } from "../../../src/devnet/upgradeFixture.ts";
import { DEFAULT_ANALYSIS, SLOTS, compare, type AnalysisOptions, type ImplementationUnderTest, type PinnedState } from "../../../src/verify/capabilities/index.ts";
import type { Finding } from "../../../src/verify/pipeline.ts";
import type { BuildCompiler } from "../../../src/verify/reproducibleBuild/index.ts";
import { CORPUS_DIR } from "../../helpers/corpus.ts";

export const OWNER = 0x5e17100000000000000000000000000000000001n;
export const PROXY = 0x9999000000000000000000000000000000000001n;

export interface CaseImplementations {
  before: ImplementationUnderTest;
  after: ImplementationUnderTest;
  upgradeCallSelector?: number;
}

export async function compileCase(compiler: BuildCompiler, name: string): Promise<CaseImplementations> {
  const dir = join(CORPUS_DIR, name);
  const upgrade = readUpgradeCase(dir);
  const version = await compiler.compilers.fullVersion(upgrade.compiler ?? "0.8.28");
  const file = (qualified: string) => qualified.slice(0, qualified.lastIndexOf(":"));
  const input = fixtureInput(dir, [file(upgrade.reference), file(upgrade.implementation)], upgrade.settings ?? DEFAULT_FIXTURE_SETTINGS, dirname(dir));
  const implementation = async (contract: string): Promise<ImplementationUnderTest> => {
    const build = await compiler.build({ compiler: version, contract, input });
    // Compiled, not deployed: UUPS's immutable __self is zero, so the address the proxy's
    // implementation slot holds must be zero too for onlyProxy to pass, as it does on chain.
    return { code: `0x${build.contract.evm!.deployedBytecode!.object}`, address: 0n, functions: build.contract.evm!.methodIdentifiers! };
  };
  return { before: await implementation(upgrade.reference), after: await implementation(upgrade.implementation) };
}

/** The state after initialize(OWNER): owner set, initialised at version 1, nothing else. */
export function pinnedState(overrides: Partial<PinnedState> = {}): PinnedState {
  const words = new Map<bigint, bigint>([
    [SLOTS.ownable, OWNER],
    [SLOTS.initializable, 1n],
  ]);
  return {
    proxy: PROXY,
    chainId: 31337n,
    timestamp: 1_760_000_000n,
    blockNumber: 1_000n,
    storage: (slot) => Promise.resolve(words.get(slot) ?? 0n),
    authorities: [OWNER],
    roles: { authority: [], balances: [], supply: [] },
    ...overrides,
  };
}

export async function caseFindings(compiler: BuildCompiler, name: string, options: AnalysisOptions = DEFAULT_ANALYSIS, state: PinnedState = pinnedState()): Promise<Finding[]> {
  const { before, after } = await compileCase(compiler, name);
  return compare(before, after, state, options);
}
