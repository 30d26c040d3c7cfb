// Satisfiability of path conditions, by z3 (the official WebAssembly build). One z3 per process,
// started on first use (its start takes ~0.6 s, so a node that never meets a candidate never pays
// it) and queries run one at a time: z3's wasm build is not reentrant.
//
// Queries go to z3 as SMT-LIB text, and the model comes back as text: no z3 expression object is
// made in JavaScript. Expression wrappers are freed by a FinalizationRegistry, at whatever moment
// the garbage collector picks, and z3 checks on a worker thread of its own; a wrapper freed while
// a check runs touches the context from two threads at once. Long corpus runs crashed z3's worker
// that way ("memory access out of bounds") before queries went as text; the solver and model, the
// only objects left, are released explicitly once a query is over.
//
// Bounded by z3's resource limit (rlimit), never by a timeout: an rlimit counts the solver's own
// steps, so the same query gives the same answer on every node whatever the machine's load; a
// timeout would not. An exhausted limit is "unknown", which the caller reports as such.
import type { Context } from "z3-solver";
import { SentinelError } from "../../errors.ts";
import type { Term } from "./terms.ts";

export type Satisfiability = "sat" | "unsat" | "unknown";

/** z3 resource units per query: generous for ERC-20-sized path conditions (they take < 100k). */
export const DEFAULT_RLIMIT = 20_000_000;

type Z3 = Context<"main">;

let z3: Promise<Z3> | undefined;
let queue: Promise<unknown> = Promise.resolve();

function context(): Promise<Z3> {
  z3 ??= (async () => {
    const module = (await import("z3-solver")) as typeof import("z3-solver") & { default?: typeof import("z3-solver") };
    const init = module.init ?? module.default!.init;
    const { Context } = await init();
    return Context("main");
  })();
  return z3;
}

/** A formula over terms: each literal is `term ≠ 0` or `term = 0`; equalities between terms. */
export interface Query {
  /** All must hold. */
  all: Formula[];
}

export type Formula =
  | { kind: "nonzero"; term: Term; holds: boolean }
  | { kind: "equal"; a: Term; b: Term; holds: boolean }
  | { kind: "ult"; a: Term; b: Term }
  /** At least one group holds (a group: all its formulas). */
  | { kind: "any"; groups: Formula[][] };

export interface Answer {
  result: Satisfiability;
  /** When sat: the values of the variables asked for (simple names only: letters, digits, _). */
  values: Map<string, bigint>;
}

/** Whether the formulas can all hold; when they can, the values of `variables` in one model. */
export function solve(query: Query, variables: readonly string[], rlimit = DEFAULT_RLIMIT): Promise<Answer> {
  const script = smtlib(query);
  const run = queue.then(async () => {
    const Z = await context();
    const solver = new Z.Solver();
    let settled = false;
    try {
      solver.set("rlimit", rlimit);
      solver.fromString(script);
      const result = await answered(solver.check());
      settled = true;
      const values = new Map<string, bigint>();
      if (result === "sat") {
        const model = solver.model();
        const text = model.sexpr();
        model.release();
        for (const name of variables) {
          const match = new RegExp(`\\(define-fun \\|?${name}\\|? \\(\\) \\(_ BitVec 256\\)\\s+#x([0-9a-f]+)\\)`).exec(text);
          // Absent from the model: z3 left it free, any value will do; zero is as good as any.
          values.set(name, match ? BigInt(`0x${match[1]}`) : 0n);
        }
      }
      return { result, values };
    } finally {
      // A check that did not answer may still be running in z3's own threads: releasing the solver
      // under it aborts the whole WebAssembly module (and the thread with it). That z3 is dropped
      // (answered() forgets it), so the solver goes with it instead.
      if (settled) solver.release();
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Not a bound (rlimit is the bound, the same on every node): a guard against z3 itself failing,
 * e.g. its wasm worker crashing, which would leave a query unanswered for ever. Such a failure is
 * the node's (CHECK_FAILED: the node abstains), and the next query tries a fresh z3. In the one
 * crash seen (before queries went as text) a fresh z3 in the same thread did not recover, so the
 * verification thread also counts the failure and retires once idle: the next verification runs in
 * a new thread with a new z3.
 */
let answerGuardMs = 30_000;
let failures = 0;

/** How many times z3 failed in this thread; a thread whose z3 failed is retired once idle (pipelineWorkerThread.ts). */
export function solverFailures(): number {
  return failures;
}

/** The guard's time, for tests that make z3 "fail" by giving it no time at all. */
export function setSolverAnswerGuard(ms: number): void {
  answerGuardMs = ms;
}

export class SolverFailure extends SentinelError<"SOLVER_FAILED"> {
  override name = "SolverFailure";
  constructor(message: string) {
    super("SOLVER_FAILED", message);
  }
}

async function answered<T>(pending: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SolverFailure(`z3 gave no answer within ${answerGuardMs} ms (its worker failed?)`)), answerGuardMs);
    timer.unref();
  });
  try {
    return await Promise.race([pending, guard]);
  } catch (error) {
    z3 = undefined;
    failures++;
    throw error instanceof SolverFailure ? error : new SolverFailure(`z3 failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

const ZERO = "(_ bv0 256)";
const ONE = "(_ bv1 256)";

/**
 * The query as an SMT-LIB script: each variable declared, each term defined once by name (terms
 * are DAGs: printed as trees they could grow exponentially), then one assertion per formula.
 */
export function smtlib(query: Query): string {
  const lines: string[] = [];
  const named = new Map<Term, string>();
  const declared = new Set<string>();
  const declare = (name: string): string => {
    const symbol = `|${name.replace(/[|\\]/g, "_")}|`;
    if (!declared.has(symbol)) {
      declared.add(symbol);
      lines.push(`(declare-const ${symbol} (_ BitVec 256))`);
    }
    return symbol;
  };
  const name = (root: Term): string => {
    // Post-order without recursion: hostile code can build terms thousands deep.
    const stack: [Term, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [t, expanded] = stack.pop()!;
      if (named.has(t)) continue;
      if (!expanded && t.op !== "const" && t.op !== "var" && t.op !== "keccak") {
        stack.push([t, true]);
        for (const arg of t.args) if (!named.has(arg)) stack.push([arg, false]);
        continue;
      }
      named.set(t, define(t));
    }
    return named.get(root)!;
  };
  const define = (t: Term): string => {
    if (t.op === "const") return `(_ bv${t.value!} 256)`;
    if (t.op === "var") return declare(t.name!);
    // Hashes are opaque: equal terms are one variable, distinct ones may (unsoundly rarely) coincide.
    if (t.op === "keccak") return declare(`keccak#${t.id}`);
    const [a, b] = t.args.map((arg) => named.get(arg)!) as [string, string];
    const guarded = (op: string) => `(ite (= ${b} ${ZERO}) ${ZERO} (${op} ${a} ${b}))`;
    const flag = (bool: string) => `(ite ${bool} ${ONE} ${ZERO})`;
    let body: string;
    switch (t.op) {
      case "add": body = `(bvadd ${a} ${b})`; break;
      case "sub": body = `(bvsub ${a} ${b})`; break;
      case "mul": body = `(bvmul ${a} ${b})`; break;
      case "div": body = guarded("bvudiv"); break;
      case "sdiv": body = guarded("bvsdiv"); break;
      case "mod": body = guarded("bvurem"); break;
      case "smod": body = guarded("bvsrem"); break;
      case "lt": body = flag(`(bvult ${a} ${b})`); break;
      case "gt": body = flag(`(bvugt ${a} ${b})`); break;
      case "slt": body = flag(`(bvslt ${a} ${b})`); break;
      case "sgt": body = flag(`(bvsgt ${a} ${b})`); break;
      case "eq": body = flag(`(= ${a} ${b})`); break;
      case "iszero": body = flag(`(= ${a} ${ZERO})`); break;
      case "and": body = `(bvand ${a} ${b})`; break;
      case "or": body = `(bvor ${a} ${b})`; break;
      case "xor": body = `(bvxor ${a} ${b})`; break;
      case "not": body = `(bvnot ${a})`; break;
      // EVM shifts take the amount first.
      case "shl": body = `(bvshl ${b} ${a})`; break;
      case "shr": body = `(bvlshr ${b} ${a})`; break;
      case "sar": body = `(bvashr ${b} ${a})`; break;
      // Rare in gates; exact semantics would cost more than they give: opaque, as a hash.
      default: return declare(`opaque#${t.id}`);
    }
    const symbol = `t${t.id}`;
    lines.push(`(define-fun ${symbol} () (_ BitVec 256) ${body})`);
    return symbol;
  };
  const nonzero = (t: Term): string => {
    // Comparisons straight to booleans: smaller formulas than (ite …) ≠ 0.
    const pair = () => `${name(t.args[0]!)} ${name(t.args[1]!)}`;
    switch (t.op) {
      case "lt": return `(bvult ${pair()})`;
      case "gt": return `(bvugt ${pair()})`;
      case "slt": return `(bvslt ${pair()})`;
      case "sgt": return `(bvsgt ${pair()})`;
      case "eq": return `(= ${pair()})`;
      case "iszero": return `(not ${nonzero(t.args[0]!)})`;
      default: return `(not (= ${name(t)} ${ZERO}))`;
    }
  };
  const formula = (f: Formula): string => {
    switch (f.kind) {
      case "nonzero": return f.holds ? nonzero(f.term) : `(not ${nonzero(f.term)})`;
      case "equal": return f.holds ? `(= ${name(f.a)} ${name(f.b)})` : `(not (= ${name(f.a)} ${name(f.b)}))`;
      case "ult": return `(bvult ${name(f.a)} ${name(f.b)})`;
      case "any": return `(or false ${f.groups.map((group) => `(and true ${group.map(formula).join(" ")})`).join(" ")})`;
    }
  };
  const assertions = query.all.map((f) => `(assert ${formula(f)})`);
  return [...lines, ...assertions].join("\n");
}
