// secp256k1 keys read from a file: the relayer's (it pays gas for relaying) and a proposer's (it
// signs candidates). Errors name the file and what is wrong, never its contents.
import { readFileSync } from "node:fs";
import type { Hex } from "viem";

export class RelayerKeyError extends Error {
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
    throw new RelayerKeyError(`cannot read ${role} key file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) {
    throw new RelayerKeyError(`${role} key file ${file} must hold one 0x-prefixed 32-byte hex key (66 characters)`);
  }
  if (/^0x0{64}$/.test(text)) throw new RelayerKeyError(`${role} key file ${file} holds the zero key`);
  return text.toLowerCase() as Hex;
}
