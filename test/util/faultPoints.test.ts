// The crash campaign's hook: its spec parsed strictly (a typo must not silently arm nothing), each
// point counted on its own, inert when unset, and a real process killed by SIGKILL exactly at the
// armed reach, nothing after it run.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { FAULT_POINTS_ENV, FaultPoints, FaultPointsError, parseFaultPoints, type FaultPointName } from "../../src/util/faultPoints.ts";

const MODULE = new URL("../../src/util/faultPoints.ts", import.meta.url).href;

describe("fault points", () => {
  it("parses name:occurrence pairs, the occurrence defaulting to 1", () => {
    assert.equal(parseFaultPoints(undefined), undefined);
    assert.equal(parseFaultPoints(""), undefined);
    assert.deepEqual(
      parseFaultPoints("signing.afterRecord:2, relay.beforeSend"),
      new Map<FaultPointName, number>([
        ["signing.afterRecord", 2],
        ["relay.beforeSend", 1],
      ]),
    );
  });

  it("refuses unknown points, bad occurrences and extra fields", () => {
    for (const spec of ["signing.afterRecrd:1", "relay.beforeSend:0", "relay.beforeSend:-1", "relay.beforeSend:x", "relay.beforeSend:1:2", "relay.beforeSend:1.5"]) {
      assert.throws(() => parseFaultPoints(spec), (error: unknown) => error instanceof FaultPointsError && error.code === "FAULT_POINTS_INVALID", spec);
    }
  });

  it("counts each armed point on its own and fires once, at its occurrence", () => {
    const kills: string[] = [];
    const points = new FaultPoints(parseFaultPoints("admission.stored:2,relay.afterSend:1"), (name, n) => kills.push(`${name}:${n}`));
    points.reach("admission.stored");
    points.reach("signing.beforeRecord"); // not armed
    assert.deepEqual(kills, []);
    points.reach("relay.afterSend");
    points.reach("admission.stored");
    points.reach("admission.stored");
    points.reach("relay.afterSend");
    assert.deepEqual(kills, ["relay.afterSend:1", "admission.stored:2"]);
  });

  it("is inert when unset", () => {
    const points = new FaultPoints(parseFaultPoints(undefined), () => assert.fail("killed while unset"));
    assert.equal(points.armed, false);
    for (let i = 0; i < 1_000; i++) points.reach("signing.afterRecord");
  });

  /** Runs a child that reaches `signing.afterRecord` three times, printing after each. */
  function child(env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    const script = `const { faultPoint } = await import(${JSON.stringify(MODULE)});
for (let i = 1; i <= 3; i++) { faultPoint("signing.afterRecord"); console.log("after " + i); }`;
    const proc = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, [FAULT_POINTS_ENV]: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    return new Promise((resolve) =>
      proc.once("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      }),
    );
  }

  it("kills a real process by SIGKILL at the armed reach, before anything after it runs", async () => {
    const killed = await child({ [FAULT_POINTS_ENV]: "signing.afterRecord:2" });
    assert.equal(killed.signal, "SIGKILL", killed.stderr);
    assert.equal(killed.stdout, "after 1\n");
    assert.match(killed.stderr, /fault point signing\.afterRecord reached \(2\): SIGKILL/);

    const unarmed = await child({});
    assert.equal(unarmed.code, 0, unarmed.stderr);
    assert.equal(unarmed.stdout, "after 1\nafter 2\nafter 3\n");
  });
});
