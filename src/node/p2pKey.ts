// The node's libp2p identity, kept in its data directory so its peer id survives restarts
// (bootstrap lists name peers by id).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { writeFileAtomicSync } from "../util/atomicFile.ts";

export const P2P_KEY_FILE = "p2p-key";

export async function loadOrCreateP2pKey(dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, P2P_KEY_FILE);
  if (existsSync(file)) return privateKeyFromProtobuf(readFileSync(file));
  const key = await generateKeyPair("Ed25519");
  writeP2pKey(dataDir, key);
  return key;
}

/** Atomic: a crash leaves the old key or the new one. */
export function writeP2pKey(dataDir: string, key: PrivateKey): void {
  writeFileAtomicSync(join(dataDir, P2P_KEY_FILE), privateKeyToProtobuf(key), { mode: 0o600 });
}
