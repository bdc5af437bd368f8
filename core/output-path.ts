/**
 * Output paths checked before any work is done (`run --out`, `report --out`, `gate --junit|--markdown`):
 * a file where a directory is wanted, a missing or unwritable parent, or a pseudo file system is an
 * input error (exit 2) naming the path and the cause, never an "internal error" after the load was
 * sent. Directories are created one level at a time (Node's recursive mkdir loops forever under
 * /proc), and a directory is proven writable by writing a probe file into it.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PeakdayError } from './errors.ts';

/** A file-system error code said plainly, for messages. */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const plain: Record<string, string> = {
    ENOENT: 'does not exist',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EISDIR: 'is a directory',
    EEXIST: 'already exists',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large (a file-size limit was reached)',
    EMFILE: 'too many open files',
    EIO: 'input/output error',
  };
  const code = err?.code;
  return code ? `${plain[code] ?? err.message} (${code})` : String(err?.message ?? e);
}

function pathError(flag: string, path: string, what: string, hint: string): PeakdayError {
  return new PeakdayError('output-path-invalid', `${flag} ${path}: ${what}`, { hint });
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function probeWritable(flag: string, dir: string): void {
  const probe = join(dir, `.peakday-write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw pathError(flag, dir, `cannot write into it: ${describeFsError(e)}`, 'choose a writable directory');
  }
}

/**
 * Makes sure `dir` is (or can be created as) a writable directory, creating it. Throws
 * `output-path-invalid` (exit 2) naming `flag`, the path and the cause.
 */
export function prepareOutputDir(dir: string, flag: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!isDirectory(abs))
      throw pathError(
        flag,
        dir,
        'is a file, not a directory',
        'give a directory path (it is created if missing)',
      );
    probeWritable(flag, abs);
    return;
  }
  const missing: string[] = [];
  let cur = abs;
  while (!existsSync(cur)) {
    missing.unshift(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  if (!isDirectory(cur))
    throw pathError(flag, dir, `${cur} is a file, not a directory`, 'give a path under a directory');
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(d)) continue;
      throw pathError(flag, dir, `cannot create ${d}: ${describeFsError(e)}`, 'choose a writable directory');
    }
  }
  probeWritable(flag, abs);
}

/**
 * Checks that `file` can be written: not a directory, in an existing writable directory. Throws
 * `output-path-invalid` (exit 2) naming `flag`, the path and the cause. Nothing is created.
 */
export function checkOutputFile(file: string, flag: string): void {
  const abs = resolve(file);
  if (isDirectory(abs))
    throw pathError(flag, file, 'is a directory', 'give a file path, e.g. out/result.xml');
  const parent = dirname(abs);
  if (!existsSync(parent))
    throw pathError(
      flag,
      file,
      `its directory ${parent} does not exist`,
      `create it first (mkdir -p ${parent})`,
    );
  if (!isDirectory(parent))
    throw pathError(flag, file, `${parent} is a file, not a directory`, 'give a path under a directory');
  probeWritable(flag, parent);
}
