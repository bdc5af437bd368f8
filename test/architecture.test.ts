import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The rooms and their order (docs/architecture.md): data flows left to right, and a room may import
// only from its own room and the rooms before it. A stage never imports a later stage, a workflow or
// cli/; workflows/ chain the stages; cli/ sits on top. bench/, scripts/ (development tools) and test/
// may import anything, and a test beside the code (*.test.ts) may also use the helpers under test/.
const ROOMS = [
  'core',
  'scenarios',
  'engine',
  'reference-stack',
  'telemetry',
  'simulation',
  'reports',
  'infra',
  'workflows',
  'cli',
] as const;
const FREE = new Set(['bench', 'scripts', 'test']);

// Type-only imports that go against the order, each with its reason. Keep it short: a new entry needs
// a reason a reviewer accepts, not just a failing test to silence.
const ALLOWED_TYPE_ONLY: Record<string, string> = {
  'core/run-directory.ts -> scenarios/plan.ts':
    'a run directory holds plan.json, the compiled plan; core reads and writes it as data and only names its type',
};

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'runs', 'cdk.out', '.git']);

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
}

/** Every relative import of a file: static, re-export, dynamic `import('…')` and `import('…')` types. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (spec: ts.Node, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    edges.push({
      from: relative(ROOT, file),
      to: normalize(relative(ROOT, join(dirname(file), spec.text))),
      typeOnly,
      line: sf.getLineAndCharacterOfPosition(spec.getStart()).line + 1,
    });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) add(n.moduleSpecifier, n.isTypeOnly);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0])
      add(n.arguments[0], false);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n.argument.literal, true);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return edges;
}

const roomOf = (path: string) => path.split(/[\\/]/)[0] as string;
const rank = (room: string) => (ROOMS as readonly string[]).indexOf(room);

/** The edges that go against the order, as readable lines. */
function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = roomOf(e.from);
    const to = roomOf(e.to);
    if (from === to || FREE.has(from) || rank(from) < 0) continue;
    if (to === 'test' && e.from.endsWith('.test.ts')) continue;
    if (rank(to) >= 0 && rank(to) <= rank(from)) continue;
    if (e.typeOnly && `${e.from} -> ${e.to}` in ALLOWED_TYPE_ONLY) continue;
    out.push(
      `${e.from}:${e.line} imports ${e.to}${e.typeOnly ? ' (type only)' : ''}: ${from} may not import ${to}`,
    );
  }
  return out;
}

const FILES = tsFiles(ROOT);
const EDGES = FILES.flatMap(importsOf);

describe('import direction', () => {
  it('finds static, type-only and dynamic imports', () => {
    const edges = importsOf(join(ROOT, 'cli', 'commands', 'run.ts'));
    expect(edges.some((e) => e.to === join('cli', 'run-flags.ts') && e.typeOnly)).toBe(true);
    expect(edges.some((e) => e.to === join('workflows', 'run.ts') && !e.typeOnly)).toBe(true);
  });

  it('flags a stage importing a later stage, a workflow or cli/, and nothing else', () => {
    const edge = (from: string, to: string, typeOnly = false): Edge => ({ from, to, typeOnly, line: 1 });
    expect(
      violations([
        edge('engine/run.ts', 'cli/output.ts'),
        edge('simulation/x.ts', 'workflows/run.ts', true),
        edge('reference-stack/x.ts', 'telemetry/collect.ts'),
        edge('core/x.ts', 'scenarios/plan.ts', true),
        // Allowed: earlier rooms, the same room, the allow-list, tests' helpers, bench/ and test/.
        edge('reports/x.ts', 'simulation/simulate.ts'),
        edge('workflows/x.ts', 'workflows/run.ts'),
        edge('cli/x.ts', 'workflows/run.ts'),
        edge('core/run-directory.ts', 'scenarios/plan.ts', true),
        edge('scenarios/x.test.ts', 'test/cli-helper.ts'),
        edge('test/x.test.ts', 'cli/main.ts'),
        edge('bench/x.ts', 'workflows/run.ts'),
      ]),
    ).toEqual([
      'engine/run.ts:1 imports cli/output.ts: engine may not import cli',
      'simulation/x.ts:1 imports workflows/run.ts (type only): simulation may not import workflows',
      'reference-stack/x.ts:1 imports telemetry/collect.ts: reference-stack may not import telemetry',
      'core/x.ts:1 imports scenarios/plan.ts (type only): core may not import scenarios',
    ]);
  });

  it('knows every top-level folder that holds TypeScript', () => {
    const tops = new Set(FILES.map((f) => roomOf(relative(ROOT, f))));
    expect([...tops].filter((t) => rank(t) < 0 && !FREE.has(t) && !t.includes('.'))).toEqual([]);
  });

  it('has no stage importing a later stage, a workflow or cli/', () => {
    expect(violations(EDGES)).toEqual([]);
  });

  it('uses every allow-list entry (a stale entry is removed)', () => {
    const used = new Set(EDGES.map((e) => `${e.from} -> ${e.to}`));
    expect(Object.keys(ALLOWED_TYPE_ONLY).filter((k) => !used.has(k))).toEqual([]);
  });
});

// No function in a model over 150 lines (issue 13). The model folders: simulation/ (the simulator, the
// probe's analysis, the sizing search), scenarios/ except the exporters that write another tool's
// code or manifests (k6-export*.ts, k6-operator*.ts: generators, not models), and the model parts of
// reports/: cost/, findings/, budgets/ (evaluation and gate) and report-model.ts. The renderers,
// the run readers (reports/run/), and the I/O shells (cli/, workflows/, engine/, reference-stack/,
// telemetry/, infra/) are not held to it here.
const MAX_FUNCTION_LINES = 150;
const MODEL_PATHS = [
  'simulation/',
  'scenarios/',
  'reports/cost/',
  'reports/findings/',
  'reports/budgets/',
  'reports/report-model.ts',
];
const NOT_MODEL = [/^scenarios\/k6-export/, /^scenarios\/k6-operator/];

// Long model functions not split yet, each with its reason. A listed function that shrinks to the limit
// must leave the list (the test says so).
const ALLOWED_LONG: Record<string, string> = {};
/** A function-like node's name as a reader finds it: its declaration's, its variable's, or its property's. */
function functionName(n: ts.Node, sf: ts.SourceFile): string {
  const named = n as ts.FunctionDeclaration;
  if (named.name) return named.name.getText(sf);
  const p = n.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)))
    return p.name.getText(sf);
  return `<anonymous at line ${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}>`;
}

/** Every function, method, arrow and accessor of a file longer than `max` lines, as "file name" → lines. */
function longFunctions(file: string, max: number): Map<string, number> {
  const sf = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TS,
  );
  const out = new Map<string, number>();
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      if (last - first + 1 > max) out.set(`${relative(ROOT, file)} ${functionName(n, sf)}`, last - first + 1);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const MODEL_FILES = FILES.map((f) => relative(ROOT, f)).filter(
  (f) =>
    MODEL_PATHS.some((m) => f.startsWith(m)) && !f.endsWith('.test.ts') && !NOT_MODEL.some((r) => r.test(f)),
);

describe('model function length', () => {
  it('measures every function-like body, nested ones included', () => {
    const long = longFunctions(join(ROOT, 'test', 'architecture.test.ts'), 10);
    expect([...long.keys()]).toContain('test/architecture.test.ts longFunctions');
    // importsOf's nested `visit` arrow, by its variable's name.
    expect([...long.keys()]).toContain('test/architecture.test.ts visit');
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines in a model outside the allow-list`, () => {
    expect(MODEL_FILES).toContain('simulation/simulate.ts');
    const over = MODEL_FILES.flatMap((f) => [...longFunctions(join(ROOT, f), MAX_FUNCTION_LINES)]);
    expect(over.filter(([k]) => !(k in ALLOWED_LONG)).map(([k, n]) => `${k}: ${n} lines`)).toEqual([]);
    const stillLong = new Set(over.map(([k]) => k));
    expect(Object.keys(ALLOWED_LONG).filter((k) => !stillLong.has(k))).toEqual([]);
  });
});
