// Writing a file so that a crash or power cut leaves either the old content or the new, never
// a torn mix: write a temp file in the same directory (rename is only atomic within one file
// system), fsync it (else the rename can reach the disk before the data), move it into place,
// then fsync the directory (else the rename itself can be lost and the old file come back).
// Keys, keystores and the compile cache all go through here so that no copy forgets a step.
//
// Two faces, one procedure: the sync one for keys (written once at start-up or by the CLI,
// where there is nothing else to do meanwhile), the async one for the compile cache, whose
// outputs are megabytes written while the verifier keeps serving.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { access, link, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /**
   * Exact permission bits of the new file, whatever the umask (0o600 for secrets). Default: as
   * writeFile, 0o666 less the umask. A replaced file's mode is not carried over.
   */
  mode?: number;
  /**
   * false: fail with EEXIST if `file` exists, even against a concurrent writer (the temp file is
   * hard-linked into place, and link(2) refuses an existing name). Default true.
   */
  replace?: boolean;
}

/** Errors a file system without hard links reports for link(2). */
const LINK_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/** Throws what the file system threw (an errno error); the temp file never outlives a failure. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const temp = tempPath(file);
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", options.mode ?? 0o666);
    if (options.mode !== undefined) fchmodSync(fd, options.mode);
    writeAllSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.replace ?? true) renameSync(temp, file);
    else placeWithoutReplacingSync(temp, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already moved into place
    }
    throw error;
  }
  syncDirectorySync(dirname(file));
}

/** As writeFileAtomicSync, without blocking the event loop. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = tempPath(file);
  try {
    const handle = await open(temp, "wx", options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.replace ?? true) await rename(temp, file);
    else await placeWithoutReplacing(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(file));
}

/** write(2) may write less than asked. */
function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}

/** Random, not the pid: a crash's leftover must not block the next write under the same pid. */
function tempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
}

function placeWithoutReplacingSync(temp: string, file: string): void {
  try {
    linkSync(temp, file);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
    // Check-then-rename races, but only against another writer on this same odd file system.
    if (existsSync(file)) throw fileExists(file);
    renameSync(temp, file);
    return;
  }
  try {
    unlinkSync(temp);
  } catch {
    // the new file is in place; a stray temp name is harmless
  }
}

async function placeWithoutReplacing(temp: string, file: string): Promise<void> {
  try {
    await link(temp, file);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
    if (await access(file).then(() => true, () => false)) throw fileExists(file);
    await rename(temp, file);
    return;
  }
  await unlink(temp).catch(() => undefined); // the new file is in place; a stray temp name is harmless
}

function fileExists(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: file already exists, '${file}'`), { code: "EEXIST", path: file });
}

// Best effort: some platforms cannot open a directory; the file itself is already durable there.
function syncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // see above
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
