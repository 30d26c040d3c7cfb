// The "proxy-safety" check's findings, made of the proxy facts (proxyFacts.ts) the shadow run
// read on the fork: the check needs no fork of its own.
import type { CheckName, Policy } from "../../codec/policy.ts";
import type { Finding } from "../pipeline.ts";
import { weakened } from "./authorityProbes.ts";
import { DEAD_ACCOUNT, ERC1967_IMPLEMENTATION_SLOT } from "./proxyFacts.ts";
import type { ShadowReport } from "./report.ts";

export const PROXY_SAFETY_CHECK: CheckName = "proxy-safety";

/**
 * The "proxy-safety" findings of a shadow report:
 * - [REJECT] UUPS_PROXIABLE_MISSING: a UUPS implementation whose proxiableUUID() does not answer
 *   the ERC-1967 implementation slot (OZ's upgradeToAndCall refuses it);
 * - [REJECT] IMPLEMENTATION_INITIALIZABLE: the implementation's own initializers are not
 *   disabled, or the upgrade call succeeds on the bare implementation from an arbitrary account;
 * - [REJECT] ADMIN_CHANGED, unless the policy allows it (then info): owner(), the admin slot or
 *   the ProxyAdmin's owner differ after the upgrade, or the upgrade emitted an ownership or role event;
 * - [REJECT] TRANSPARENT_SELECTOR_CLASH: a transparent proxy intercepts one of the new
 *   implementation's selectors;
 * - [REJECT] AUTHORITY_WEAKENED, whatever the policy: an admin entry point of the proxy or its
 *   ProxyAdmin (upgrade, ownership, default-admin roles) that a non-authority could not call
 *   under the current implementation succeeds for it under the new one (authorityProbes.ts).
 */
export function proxySafetyFindings(report: ShadowReport, policy: Pick<Policy, "allowAdminChange">): Finding[] {
  const check = PROXY_SAFETY_CHECK;
  const findings: Finding[] = [];

  const proxiable = report.proxiable;
  if (proxiable && proxiable.status !== "ok") {
    const message =
      proxiable.status === "reverted"
        ? `proxiableUUID() reverts on the new implementation (${proxiable.detail}): it is not UUPS, upgradeToAndCall will refuse it and the proxy would lose its upgrade path`
        : proxiable.status === "no-answer"
          ? "proxiableUUID() returns nothing on the new implementation: it does not implement UUPS (no such function, or no code)"
          : `proxiableUUID() returns ${proxiable.detail}, not the ERC-1967 implementation slot ${ERC1967_IMPLEMENTATION_SLOT}`;
    findings.push({ check, code: "UUPS_PROXIABLE_MISSING", severity: "reject", message, evidence: { implementation: report.implementation, result: proxiable.detail } });
  }

  const init = report.initializable;
  if (init.disabled === false) {
    findings.push({
      check,
      code: "IMPLEMENTATION_INITIALIZABLE",
      severity: "reject",
      message: `the implementation's own initializers are not disabled (${init.flavour} Initializable at version ${init.initializedVersion}): anyone can initialize it; call _disableInitializers() in its constructor`,
      evidence: { implementation: report.implementation, flavour: init.flavour, initializedVersion: init.initializedVersion ?? "" },
    });
  }
  if (report.upgradeCallOnImplementation?.status === "success") {
    findings.push({
      check,
      code: "IMPLEMENTATION_INITIALIZABLE",
      severity: "reject",
      message: `the upgrade call succeeds on the bare implementation from an arbitrary account (${DEAD_ACCOUNT}): anyone can initialize it`,
      evidence: { implementation: report.implementation, caller: DEAD_ACCOUNT, selector: report.upgradeCall.slice(0, 10) },
    });
  }

  const severity = policy.allowAdminChange ? "info" : "reject";
  const allowed = policy.allowAdminChange ? " (allowed by policy)" : "";
  if (report.after) {
    const fields = [
      ["owner", "owner() of the proxy"],
      ["admin", "the ERC-1967 admin slot"],
      ["adminOwner", "the owner of the proxy's admin"],
    ] as const;
    for (const [field, label] of fields) {
      const before = report.before[field] ?? "none";
      const after = report.after[field] ?? "none";
      if (before !== after) {
        findings.push({ check, code: "ADMIN_CHANGED", severity, message: `${label} changed from ${before} to ${after}${allowed}`, evidence: { field, before, after } });
      }
    }
  }
  for (const event of report.adminEvents) {
    findings.push({
      check,
      code: "ADMIN_CHANGED",
      severity,
      message: `the upgrade emitted ${event.event} from ${event.emitter}${allowed}`,
      evidence: { event: event.event, emitter: event.emitter, logIndex: String(event.logIndex), ...prefixed("arg.", event.args) },
    });
  }

  for (const clash of report.selectorClash?.clashes ?? []) {
    findings.push({
      check,
      code: "TRANSPARENT_SELECTOR_CLASH",
      severity: "reject",
      message: `the new implementation has ${clash.function} (${clash.selector}), which the transparent proxy intercepts for its admin`,
      evidence: {
        selector: clash.selector,
        function: clash.function,
        selectorSource: report.selectorClash?.selectorSource ?? "",
        interceptedSource: report.selectorClash?.interceptedSource ?? "",
      },
    });
  }

  for (const probe of (report.authorityProbes ?? []).filter(weakened)) {
    const target = probe.on === "proxy" ? "the proxy" : "the proxy's admin";
    const before = probe.before.status === "reverted" ? `reverted (${probe.before.reason})` : "did not exist";
    findings.push({
      check,
      code: "AUTHORITY_WEAKENED",
      severity: "reject",
      message: `after the upgrade ${probe.entryPoint} on ${target} ${probe.to} succeeds for ${probe.caller}, which is not the upgrade authority; under the current implementation it ${before}`,
      evidence: {
        entryPoint: probe.entryPoint,
        on: probe.on,
        to: probe.to,
        caller: probe.caller,
        before: probe.before.status,
        beforeReason: probe.before.status === "reverted" ? probe.before.reason : "",
      },
    });
  }

  if (!findings.some((finding) => finding.severity === "reject")) {
    const probes = report.authorityProbes ?? [];
    const called = probes.filter((probe) => probe.after.status !== "absent" || probe.before.status !== "absent");
    const evidence: Record<string, string> = { proxyKind: report.proxyKind ?? "unknown" };
    if (report.authorityProbes !== undefined) {
      evidence["authorityProbes"] = called.map((probe) => `${probe.on}:${probe.entryPoint}`).join(";");
      evidence["probeCaller"] = DEAD_ACCOUNT;
    }
    findings.push({ check, code: "OK", severity: "info", message: "proxy safety holds", evidence });
  }
  return findings;
}

function prefixed(prefix: string, record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [`${prefix}${key}`, value]));
}
