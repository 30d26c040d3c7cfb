import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The verification corpus: one upgrade per directory (test/fixtures/corpus/README.md). */
export const CORPUS_DIR = join(import.meta.dirname, "../fixtures/corpus");

/** The corpus's case names, sorted: its directories with a case.json (`shared/` holds sources, it is no case). */
export function corpusCases(): string[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(CORPUS_DIR, entry.name, "case.json")))
    .map((entry) => entry.name)
    .sort();
}
