// secp256k1 keys read from a file: the relayer's (it pays gas for relaying) and a proposer's (it
// signs candidates). Errors name the file and what is wrong, never its contents.
import { readFileSync } from "node:fs";
import type { Hex } from "viem";
import { SentinelError } from "../errors.ts";

export type RelayerKeyErrorCode =
  | "UNREADABLE"
  /** Not one 0x-prefixed 32-byte hex key. */
  | "MALFORMED"
  | "ZERO_KEY";

export class RelayerKeyError extends SentinelError<RelayerKeyErrorCode, { file: string; role: "relayer" | "proposer" }> {
  override name = "RelayerKeyError";
}

export function loadRelayerKey(file: string): Hex {
  return loadKeyFile(file, "relayer");
}

export function loadKeyFile(file: string, role: "relayer" | "proposer"): Hex {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new RelayerKeyError("UNREADABLE", `cannot read ${role} key file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, { file, role }, { cause: error });
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) {
    throw new RelayerKeyError("MALFORMED", `${role} key file ${file} must hold one 0x-prefixed 32-byte hex key (66 characters)`, { file, role });
  }
  if (/^0x0{64}$/.test(text)) throw new RelayerKeyError("ZERO_KEY", `${role} key file ${file} holds the zero key`, { file, role });
  return text.toLowerCase() as Hex;
}
