import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildCompiler } from "../../src/verify/reproducibleBuild/index.ts";

/**
 * One compile cache for every test file of a run: the corpus, the devnet and the unit tests compile
 * many of the same inputs, and solc-js takes seconds per OpenZeppelin contract.
 */
export const TEST_COMPILE_CACHE = join(tmpdir(), "sentinel-test-compile-cache");

export function testCompiler(): BuildCompiler {
  return new BuildCompiler({ cacheDir: TEST_COMPILE_CACHE });
}
