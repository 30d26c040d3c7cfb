// The node's libp2p identity, kept in its data directory so its peer id survives restarts
// (bootstrap lists name peers by id).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";

export const P2P_KEY_FILE = "p2p-key";

export async function loadOrCreateP2pKey(dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, P2P_KEY_FILE);
  if (existsSync(file)) return privateKeyFromProtobuf(readFileSync(file));
  const key = await generateKeyPair("Ed25519");
  writeP2pKey(dataDir, key);
  return key;
}

/** Written to a temporary file, fsync'd, then renamed: a crash leaves the old key or the new one. */
export function writeP2pKey(dataDir: string, key: PrivateKey): void {
  const file = join(dataDir, P2P_KEY_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, privateKeyToProtobuf(key));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
