/**
 * Terminal output shared by every command: colour that honours `--no-color` and `NO_COLOR`,
 * JSON output for `--json`, and whether we are on a TTY (live progress) or not (plain lines).
 */

export interface Output {
  color: boolean;
  tty: boolean;
  out(line?: string): void;
  err(line?: string): void;
  json(value: unknown): void;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

let colorEnabled =
  process.stdout.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';

/** Called by main when `--no-color` is given. */
export function disableColor(): void {
  colorEnabled = false;
}

const wrap = (code: string, end: string) => (s: string) =>
  colorEnabled ? `\u001b[${code}m${s}\u001b[${end}m` : s;

/** The process's output, created on demand so that `--no-color` set before use takes effect. */
export function createOutput(): Output {
  return {
    get color() {
      return colorEnabled;
    },
    tty: process.stdout.isTTY === true,
    out: (line = '') => process.stdout.write(`${line}\n`),
    err: (line = '') => process.stderr.write(`${line}\n`),
    json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    bold: wrap('1', '22'),
    dim: wrap('2', '22'),
    red: wrap('31', '39'),
    green: wrap('32', '39'),
    yellow: wrap('33', '39'),
  };
}
