// The status page served at GET /: the state of the network at a glance, as this node sees it.
// One HTML document with its script and style inline: no build step and nothing loaded from
// anywhere else (the node may run where the internet is not reachable, and the page's
// Content-Security-Policy allows only this origin). It reads GET /v1/status, and refreshes when
// the event stream (/v1/events) says something happened, and every few seconds for what has no
// event (peers, chain health). Data is put in the page as text, never as HTML.
import { EVENT_TYPES } from "../events/eventLog.ts";

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sentinel node status</title>
<style>
  :root { --bg: #0f1419; --panel: #182029; --text: #d9e1e8; --dim: #8a99a8; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #58a6ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; padding: 14px 20px; border-bottom: 1px solid #26313d; }
  header h1 { margin: 0; font-size: 18px; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; padding: 16px 20px; }
  section { background: var(--panel); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #26313d; white-space: nowrap; }
  th { color: var(--dim); font-weight: 500; }
  .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
  .dim { color: var(--dim); }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #26313d; }
  .ok { background: rgba(63,185,80,.18); color: var(--ok); }
  .warn { background: rgba(210,153,34,.18); color: var(--warn); }
  .bad { background: rgba(248,81,73,.18); color: var(--bad); }
  .self td { color: var(--accent); }
  .bar { position: relative; width: 120px; height: 8px; background: #26313d; border-radius: 4px; display: inline-block; vertical-align: middle; margin-right: 6px; }
  .bar > span { position: absolute; left: 0; top: 0; bottom: 0; background: var(--accent); border-radius: 4px; }
  .bar.full > span { background: var(--ok); }
  #live.on { color: var(--ok); }
  #live.off { color: var(--warn); }
</style>
</head>
<body>
<header>
  <h1>Sentinel <span id="name" class="dim"></span></h1>
  <span>peer <span id="peerId" class="mono dim"></span></span>
  <span id="place"></span>
  <span id="live" class="off">connecting…</span>
  <span class="dim">updated <span id="updated">never</span></span>
</header>
<main>
  <section><h2>Chains</h2><table><thead><tr><th>chain</th><th>health</th><th>since</th></tr></thead><tbody id="chains"></tbody></table></section>
  <section><h2>Peers (<span id="peerCount">0</span>)</h2><table><thead><tr><th>peer id</th><th>score</th></tr></thead><tbody id="peers"></tbody></table></section>
  <section><h2>Validator set <span id="setInfo" class="dim"></span></h2><table><thead><tr><th>index</th><th>public key</th><th></th></tr></thead><tbody id="validators"></tbody></table></section>
  <section class="wide"><h2>Candidates</h2>
    <table><thead><tr><th>candidate</th><th>chain</th><th>target</th><th>stage</th><th>verdict progress</th><th>outcome</th><th>relay per chain</th></tr></thead><tbody id="candidates"></tbody></table>
    <p id="noCandidates" class="dim">No candidates yet.</p>
  </section>
</main>
<script>
"use strict";
const EVENT_TYPES = ${JSON.stringify(EVENT_TYPES)};
const OUTCOMES = { 1: ["approve", "ok"], 2: ["reject", "bad"], 3: ["revoke", "warn"] };
const STAGES = { verifying: "", abstaining: "warn", collecting: "", attested: "warn", recorded: "ok" };
const $ = (id) => document.getElementById(id);
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
const short = (hex, n = 10) => (typeof hex === "string" && hex.length > 2 * n ? hex.slice(0, n) + "…" + hex.slice(-4) : String(hex ?? "—"));
const badge = (text, kind) => el("span", { class: "badge " + (kind || "") }, text);
const ago = (ms) => (ms === null ? "—" : Math.max(0, Math.round((Date.now() - ms) / 1000)) + " s ago");
function fill(tbody, rows) { tbody.replaceChildren(...rows); }

function render(s) {
  $("name").textContent = s.node.name;
  $("peerId").textContent = short(s.node.peerId, 12);
  const set = s.validatorSet;
  $("place").replaceChildren(set.self === null ? badge("observer: not in the validator set", "warn") : badge("validator " + set.self + " of " + set.size, "ok"));
  $("setInfo").textContent = "#" + set.index + " · threshold " + set.threshold + " of " + set.size;
  fill($("chains"), s.chains.map((c) => el("tr", { "data-chain": c.chainId },
    el("td", {}, c.chainId),
    el("td", {}, c.reachable === null ? badge("unknown") : c.reachable ? badge("reachable", "ok") : badge("unreachable", "bad"), c.reason ? el("span", { class: "dim" }, " " + c.reason) : ""),
    el("td", { class: "dim" }, ago(c.since)))));
  $("peerCount").textContent = s.peers.length;
  fill($("peers"), s.peers.map((p) => el("tr", {}, el("td", { class: "mono" }, short(p.peerId, 14)), el("td", {}, Number(p.score).toFixed(1)))));
  fill($("validators"), set.validators.map((v) => el("tr", v.index === set.self ? { class: "self" } : {}, el("td", {}, v.index), el("td", { class: "mono" }, short(v.publicKey, 14)), el("td", {}, v.index === set.self ? "this node" : ""))));
  $("noCandidates").hidden = s.candidates.length > 0;
  fill($("candidates"), s.candidates.map((c) => {
    const progress = Math.min(1, c.signatures / Math.max(1, c.threshold));
    const outcome = OUTCOMES[c.outcome];
    return el("tr", { "data-candidate": c.candidateId, "data-stage": c.stage },
      el("td", { class: "mono", title: c.candidateId }, short(c.candidateId)),
      el("td", {}, c.chainId ?? "—"),
      el("td", { class: "mono", title: c.target ?? "" }, short(c.target, 8)),
      el("td", {}, badge(c.stage, STAGES[c.stage])),
      el("td", { class: "progress" }, el("span", { class: "bar" + (progress >= 1 ? " full" : "") }, el("span", { style: "width:" + Math.round(progress * 100) + "%" })), c.signatures + " / " + c.threshold),
      // Before the attestation, the outcome is this node's own verdict, not yet the network's.
      el("td", {}, outcome ? badge(outcome[0], outcome[1]) : "—", outcome && c.stage !== "attested" && c.stage !== "recorded" ? el("span", { class: "dim" }, " this node") : ""),
      el("td", {}, ...Object.entries(c.relay).flatMap(([chain, state]) => [badge(chain + ": " + state, state === "recorded" ? "ok" : state === "failed" ? "bad" : state === "none" ? "" : "warn"), " "])));
  }));
  $("updated").textContent = new Date().toLocaleTimeString();
}

let inFlight = false, again = false;
async function refresh() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  try {
    const response = await fetch("/v1/status", { cache: "no-store" });
    if (response.ok) {
      const status = await response.json();
      render(status);
      follow(status.lastEventId);
    }
  } catch (error) {
    $("updated").textContent = "failed: " + error.message;
  } finally {
    inFlight = false;
    if (again) { again = false; setTimeout(refresh, 100); }
  }
}

let timer;
const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 200); };
let following = false;
function follow(after) {
  // From the status's newest event on: the status already holds the past. EventSource reconnects
  // by itself, resuming after the last event it got.
  if (following) return;
  following = true;
  const stream = new EventSource("/v1/events?lastEventId=" + after);
  stream.onopen = () => { $("live").textContent = "live"; $("live").className = "on"; soon(); };
  stream.onerror = () => { $("live").textContent = "reconnecting…"; $("live").className = "off"; };
  for (const type of EVENT_TYPES) stream.addEventListener(type, soon);
}
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
`;
