/**
 * Templating and extraction for journeys, compiled once per run so the hot path only concatenates
 * strings: `{{name}}` placeholders (scenarios/journey.ts) become a list of literal and variable
 * parts; JSON paths (`$.items[0].id`) become a list of keys. Pure.
 */

/** Variables visible to one iteration: extracted values, data picks and built-ins. */
export type TemplateVars = Map<string, string>;

/** A compiled template: a constant string, or a function of the iteration's variables. */
export type CompiledTemplate = { constant: string } | { render: (vars: TemplateVars) => string };

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/**
 * Substitutions that came out empty since the last {@link takeEmptySubstitutions}: a variable that
 * was never set, or a data value that is the empty string. The engine reads it after rendering a
 * request and does not send one that would go out with a hole in it (e.g. `GET /api/products/`).
 * A plain counter, because rendering is the hot path.
 */
let emptySubstitutions = 0;

/** Returns and resets the count of empty substitutions (see above). */
export function takeEmptySubstitutions(): number {
  const n = emptySubstitutions;
  emptySubstitutions = 0;
  return n;
}

/** Names used by a template string. */
export function templateNames(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * Compiles a template string. A missing variable renders as the empty string and is reported
 * through `onMissing` (the engine counts it as a failed check of the step that needed it). `encode`
 * is applied to every substituted value (paths use encodeURIComponent, so a search term like
 * "air fryer" is sent as `air%20fryer`).
 */
export function compileTemplate(
  text: string,
  onMissing?: (name: string) => void,
  encode?: (value: string) => string,
): CompiledTemplate {
  const parts: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, m.index));
    names.push(m[1] as string);
    last = (m.index as number) + m[0].length;
  }
  if (names.length === 0) return { constant: text };
  parts.push(text.slice(last));
  return {
    render(vars) {
      let out = parts[0] as string;
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        const v = vars.get(name);
        if (v === undefined || v === '') emptySubstitutions++;
        if (v === undefined) onMissing?.(name);
        out += (v === undefined ? '' : encode ? encode(v) : v) + (parts[i + 1] as string);
      }
      return out;
    },
  };
}

/** Renders a compiled template. */
export function renderTemplate(t: CompiledTemplate, vars: TemplateVars): string {
  return 'constant' in t ? t.constant : t.render(vars);
}

/**
 * Compiles a JSON value whose string leaves are templates into a function producing the encoded
 * body. A string that is exactly one placeholder keeps a number/boolean type when the variable
 * looks like one (so `{"quantity": "{{qty}}"}` sends a number).
 */
export function compileJsonBody(value: unknown): CompiledTemplate {
  const text = JSON.stringify(value);
  if (templateNames(text).length === 0) return { constant: text };
  const build = (v: unknown): ((vars: TemplateVars) => unknown) => {
    if (typeof v === 'string') {
      const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/.exec(v);
      if (whole) {
        const name = whole[1] as string;
        return (vars) => {
          const s = vars.get(name) ?? '';
          if (s === '') emptySubstitutions++;
          return /^-?\d+(\.\d+)?$/.test(s) && s.length < 16
            ? Number(s)
            : s === 'true' || s === 'false'
              ? s === 'true'
              : s;
        };
      }
      const t = compileTemplate(v);
      return (vars) => renderTemplate(t, vars);
    }
    if (Array.isArray(v)) {
      const items = v.map(build);
      return (vars) => items.map((f) => f(vars));
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, build(x)] as const);
      return (vars) => {
        const o: Record<string, unknown> = {};
        for (const [k, f] of entries) o[k] = f(vars);
        return o;
      };
    }
    return () => v;
  };
  const f = build(value);
  return { render: (vars) => JSON.stringify(f(vars)) };
}
