import { describe, expect, it } from 'vitest';
import { compileJsonBody, compileTemplate, renderTemplate } from './templates.ts';

const vars = new Map([
  ['id', 'p-000001'],
  ['qty', '3'],
  ['flag', 'true'],
]);

describe('templates', () => {
  it.each([
    ['/api/products/{{id}}', '/api/products/p-000001'],
    ['/plain', '/plain'],
    ['{{ id }}-{{qty}}', 'p-000001-3'],
    ['/x/{{missing}}', '/x/'],
  ])('renders %s as %s', (t, out) => expect(renderTemplate(compileTemplate(t), vars)).toBe(out));

  it('reports a missing variable', () => {
    const missing: string[] = [];
    renderTemplate(
      compileTemplate('/x/{{nope}}', (n) => missing.push(n)),
      vars,
    );
    expect(missing).toEqual(['nope']);
  });

  it('keeps numbers and booleans typed in JSON bodies when a leaf is one whole placeholder', () => {
    const b = compileJsonBody({ sku: 'S-{{id}}', quantity: '{{qty}}', gift: '{{flag}}', n: 1 });
    expect(JSON.parse(renderTemplate(b, vars))).toEqual({ sku: 'S-p-000001', quantity: 3, gift: true, n: 1 });
  });

  it('pre-encodes a body without placeholders', () => {
    expect(compileJsonBody({ a: 1 })).toEqual({ constant: '{"a":1}' });
  });
});

describe('path templates', () => {
  it('percent-encodes substituted values, not the template text', () => {
    const t = compileTemplate('/api/search?q={{term}}&limit=20', undefined, encodeURIComponent);
    expect(renderTemplate(t, new Map([['term', 'air fryer & more']]))).toBe(
      '/api/search?q=air%20fryer%20%26%20more&limit=20',
    );
  });
});
