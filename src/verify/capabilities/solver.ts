// Satisfiability of path conditions, by z3 (the official WebAssembly build). One z3 per process,
// started on first use (its start takes ~0.6 s, so a node that never meets a candidate never pays
// it) and queries run one at a time: z3's wasm build is not reentrant.
//
// Bounded by z3's resource limit (rlimit), never by a timeout: an rlimit counts the solver's own
// steps, so the same query gives the same answer on every node whatever the machine's load; a
// timeout would not. An exhausted limit is "unknown", which the caller reports as such.
import type { Bool, BitVec, Context } from "z3-solver";
import { SentinelError } from "../../errors.ts";
import type { Term } from "./terms.ts";

export type Satisfiability = "sat" | "unsat" | "unknown";

/** z3 resource units per query: generous for ERC-20-sized path conditions (they take < 100k). */
export const DEFAULT_RLIMIT = 20_000_000;

type Z3 = Context<"main">;
type BV = BitVec<256, "main">;

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
  /** When sat: the values of the variables asked for. */
  values: Map<string, bigint>;
}

/** Whether the formulas can all hold; when they can, the values of `variables` in one model. */
export function solve(query: Query, variables: readonly string[], rlimit = DEFAULT_RLIMIT): Promise<Answer> {
  const run = queue.then(async () => {
    const Z = await context();
    const translate = translator(Z);
    const solver = new Z.Solver();
    solver.set("rlimit", rlimit);
    for (const formula of query.all) solver.add(translate.formula(formula));
    try {
      const result = await answered(solver.check());
      const values = new Map<string, bigint>();
      if (result === "sat") {
        const model = solver.model();
        for (const name of variables) {
          const value = model.eval(translate.variable(name), true);
          values.set(name, BigInt(value.toString().replace(/^#x/, "0x")));
        }
        model.release();
      }
      return { result, values };
    } finally {
      // Eagerly: z3's wasm heap is fixed (2 GiB), and garbage collection frees solvers late.
      solver.release();
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Not a bound (rlimit is the bound, the same on every node): a guard against z3 itself failing,
 * e.g. its wasm worker crashing, which would leave a query unanswered for ever. Such a failure is
 * the node's (CHECK_FAILED: the node abstains), and the next query starts a fresh z3.
 */
const ANSWER_GUARD_MS = 30_000;

export class SolverFailure extends SentinelError<"SOLVER_FAILED"> {
  override name = "SolverFailure";
  constructor(message: string) {
    super("SOLVER_FAILED", message);
  }
}

async function answered<T>(pending: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SolverFailure(`z3 gave no answer within ${ANSWER_GUARD_MS} ms (its worker failed?)`)), ANSWER_GUARD_MS);
    timer.unref();
  });
  try {
    return await Promise.race([pending, guard]);
  } catch (error) {
    z3 = undefined;
    throw error instanceof SolverFailure ? error : new SolverFailure(`z3 failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

function translator(Z: Z3) {
  const memo = new Map<Term, BV>();
  const variable = (name: string): BV => Z.BitVec.const(name, 256);
  const zero = Z.BitVec.val(0n, 256);
  const bool = (b: Bool<"main">): BV => Z.If(b, Z.BitVec.val(1n, 256), Z.BitVec.val(0n, 256)) as BV;

  const term = (t: Term): BV => {
    const known = memo.get(t);
    if (known) return known;
    const a = () => term(t.args[0]!);
    const b = () => term(t.args[1]!);
    let e: BV;
    switch (t.op) {
      case "const": e = Z.BitVec.val(t.value!, 256); break;
      case "var": e = variable(t.name!); break;
      // Hashes are opaque: equal terms are one variable, distinct ones may (unsoundly rarely) coincide.
      case "keccak": e = variable(`keccak#${t.id}`); break;
      case "add": e = a().add(b()); break;
      case "sub": e = a().sub(b()); break;
      case "mul": e = a().mul(b()); break;
      case "div": e = Z.If(b().eq(zero), Z.BitVec.val(0n, 256), a().udiv(b())) as BV; break;
      case "sdiv": e = Z.If(b().eq(zero), Z.BitVec.val(0n, 256), a().sdiv(b())) as BV; break;
      case "mod": e = Z.If(b().eq(zero), Z.BitVec.val(0n, 256), a().urem(b())) as BV; break;
      case "smod": e = Z.If(b().eq(zero), Z.BitVec.val(0n, 256), a().srem(b())) as BV; break;
      case "lt": e = bool(a().ult(b())); break;
      case "gt": e = bool(a().ugt(b())); break;
      case "slt": e = bool(a().slt(b())); break;
      case "sgt": e = bool(a().sgt(b())); break;
      case "eq": e = bool(a().eq(b())); break;
      case "iszero": e = bool(a().eq(zero)); break;
      case "and": e = a().and(b()); break;
      case "or": e = a().or(b()); break;
      case "xor": e = a().xor(b()); break;
      case "not": e = a().not(); break;
      // EVM shifts take the amount first.
      case "shl": e = b().shl(a()); break;
      case "shr": e = b().lshr(a()); break;
      case "sar": e = b().shr(a()); break;
      // Rare in gates; exact semantics would cost more than they give: opaque, as a hash.
      default: e = variable(`opaque#${t.id}`);
    }
    memo.set(t, e);
    return e;
  };

  const nonzero = (t: Term): Bool<"main"> => {
    // Comparisons straight to booleans: smaller formulas than If(…, 1, 0) ≠ 0.
    switch (t.op) {
      case "lt": return term(t.args[0]!).ult(term(t.args[1]!));
      case "gt": return term(t.args[0]!).ugt(term(t.args[1]!));
      case "slt": return term(t.args[0]!).slt(term(t.args[1]!));
      case "sgt": return term(t.args[0]!).sgt(term(t.args[1]!));
      case "eq": return term(t.args[0]!).eq(term(t.args[1]!));
      case "iszero": return Z.Not(nonzero(t.args[0]!));
      default: return Z.Not(term(t).eq(zero));
    }
  };

  const formula = (f: Formula): Bool<"main"> => {
    switch (f.kind) {
      case "nonzero": return f.holds ? nonzero(f.term) : Z.Not(nonzero(f.term));
      case "equal": return f.holds ? term(f.a).eq(term(f.b)) : Z.Not(term(f.a).eq(term(f.b)));
      case "ult": return term(f.a).ult(term(f.b));
      case "any": return Z.Or(...f.groups.map((group) => (group.length === 0 ? Z.Bool.val(true) : Z.And(...group.map(formula)))));
    }
  };

  return { formula, variable };
}
