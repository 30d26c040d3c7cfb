// Human approvals this node verified, one record per (candidate, approver): a second approval
// by the same approver replaces nothing and counts once. Written with fsync, like the signing
// record: an approval lost with the machine could turn a held threshold into a REJECT after a
// restart, and approvers are not asked twice.
import type { Address, Hex } from "viem";
import { parseSignedApproval, signedApprovalToJson, type SignedHumanApproval, type SignedHumanApprovalJson } from "../codec/humanApproval.ts";
import type { Database, Sublevel } from "../db/database.ts";

type StoredApproval = SignedHumanApprovalJson & { [key: string]: string };

/** Key order is candidate first, so one candidate's approvals are one range. */
function keyOf(candidateId: Hex, approver: Address): string {
  return `${candidateId.toLowerCase()}/${approver.toLowerCase()}`;
}

export class ApprovalStore {
  readonly #db: Database;
  readonly #approvals: Sublevel<StoredApproval>;

  constructor(_options: object, modules: { db: Database }) {
    this.#db = modules.db;
    this.#approvals = modules.db.sublevel<StoredApproval>("approvals");
  }

  async has(candidateId: Hex, approver: Address): Promise<boolean> {
    return (await this.#approvals.get(keyOf(candidateId, approver))) !== undefined;
  }

  /** Stores a verified approval (fsync'd); false when this approver's was already held. */
  async add(approval: SignedHumanApproval): Promise<boolean> {
    if (await this.has(approval.candidateId, approval.approver)) return false;
    await this.#db.batch([{ sublevel: "approvals", key: keyOf(approval.candidateId, approval.approver), value: signedApprovalToJson(approval) as StoredApproval }], { sync: true });
    return true;
  }

  /** The candidate's approvals, one per approver, in approver order. */
  async list(candidateId: Hex): Promise<SignedHumanApproval[]> {
    const prefix = `${candidateId.toLowerCase()}/`;
    const approvals: SignedHumanApproval[] = [];
    // "0" is the character after "/": the range is exactly this candidate's keys.
    for await (const [, value] of this.#approvals.entries({ gte: prefix, lt: `${candidateId.toLowerCase()}0` })) approvals.push(parseSignedApproval(value));
    return approvals;
  }
}
