import { describe, expect, it } from 'vitest';
import { isPeakdayError } from './errors.ts';
import { compileJsonPath, parseJsonPath, readJsonPath } from './json-path.ts';

describe('the JSON path grammar', () => {
  it.each([
    ['$', []],
    ['$.items[0].id', ['items', 0, 'id']],
    ['$.items[*].id', ['items', 0, 'id']],
    ["$['a b'].c", ['a b', 'c']],
    ['$["x.y"][12]', ['x.y', 12]],
    ['$.$ref._a-b', ['$ref', '_a-b']],
    ["$['a b'][*]", ['a b', 0]],
  ])('compiles %s', (path, keys) => expect(parseJsonPath(path)).toEqual(keys));

  it.each([
    ['items', 0, 'must start with $'],
    ['$.', 1, 'expected a property name after "."'],
    ['$..a', 1, 'expected a property name after "."'],
    ['$.1a', 1, 'expected a property name after "."'],
    ['$[x]', 1, "expected [n], [*] or ['name']"],
    ['$.a[', 3, "expected [n], [*] or ['name']"],
    ["$['a]", 1, "expected [n], [*] or ['name']"],
    ['$ .a', 1, 'unexpected " "'],
  ])('rejects %s at position %i: %s', (path, at, why) => {
    expect(compileJsonPath(path)).toEqual({ problem: { at, why } });
  });

  it('throws a PeakdayError (invalid-json-path, exit 2) that names the position and shows the grammar', () => {
    let err: unknown;
    try {
      parseJsonPath('$.items[');
    } catch (e) {
      err = e;
    }
    expect(isPeakdayError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'invalid-json-path', exitCode: 2 });
    expect((err as Error).message).toBe(`JSON path "$.items[": expected [n], [*] or ['name'] at position 7`);
  });
});

describe('reading a path', () => {
  const doc = { items: [{ id: 'x' }, { id: 'y' }], price: { amount: 5 }, 'a b': null, n: 0 };

  it.each([
    ['$.items[0].id', 'x'],
    ['$.items[1].id', 'y'],
    ['$.items[*].id', 'x'],
    ["$['price'].amount", 5],
    ['$.n', 0],
    ["$['a b']", null],
    ['$.items[2].id', undefined],
    ['$.price[0]', undefined],
    ['$.items.length', undefined],
    ["$['a b'].x", undefined],
    ['$.missing.deeper', undefined],
  ])('%s reads %j', (path, value) => expect(readJsonPath(doc, parseJsonPath(path))).toEqual(value));

  it('reads the whole body at $', () => expect(readJsonPath(doc, parseJsonPath('$'))).toBe(doc));
});
