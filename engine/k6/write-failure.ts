/**
 * k6 keeps sending load when it cannot write its outputs: on a full disk (or a file-size limit) its
 * JSON output logs `level=error msg="Sample couldn't be marshalled to JSON" error="write <file>: no
 * space left on device"` once per flush and plays on, so the run would send load nothing measures.
 * The k6 driver (engine/k6/driver.ts) reads k6's log as it prints and stops k6 on the first such line,
 * as the embedded engine stops on its own failed write (engine/run.ts). Pure.
 */

/** A write k6 reported as failed: the file and the cause, in the words and code Node uses. */
export interface K6WriteFailure {
  file: string;
  /** What went wrong, plainly, with its errno code: `no space left on device (ENOSPC)`. */
  cause: string;
  code: 'ENOSPC' | 'EFBIG' | 'EDQUOT';
}

/** Go's error text (strerror) for the errors that mean "the disk cannot take more", and their code. */
const CAUSES: Record<string, { code: K6WriteFailure['code']; plain: string }> = {
  'no space left on device': { code: 'ENOSPC', plain: 'no space left on device' },
  'file too large': { code: 'EFBIG', plain: 'file too large (a file-size limit was reached)' },
  'disk quota exceeded': { code: 'EDQUOT', plain: 'disk quota exceeded' },
};

const LINE =
  /error="(?:write|open|sync|close) (.+?): (no space left on device|file too large|disk quota exceeded)"/;

/**
 * The first write failure of a full disk in `text` (k6's console, any chunk of whole lines), or
 * null. Only files under `dir` count when given: a failure elsewhere is not the run directory's.
 */
export function findK6WriteFailure(text: string, dir?: string): K6WriteFailure | null {
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const file = m[1]!;
    if (dir !== undefined && !file.startsWith(dir)) continue;
    const c = CAUSES[m[2]!]!;
    return { file, cause: `${c.plain} (${c.code})`, code: c.code };
  }
  return null;
}
