import { describe, expect, it } from 'vitest';
import type { Finding } from '../findings/types.ts';
import { groupFindings } from './finding-groups.ts';

const f = (id: string, start: number, service?: string): Finding => ({
  id: `${id}@${start}`,
  kind: id.split('/')[0] as Finding['kind'],
  severity: 'warning',
  title: `${id} at ${start}`,
  window: { start, end: start + 60 },
  provenance: 'simulated',
  evidence: [],
  ...(service ? { service } : {}),
});

describe('groupFindings', () => {
  it.each([
    ['keeps a group of six whole (folding one line saves nothing)', 6, 6, 0],
    ['folds a group of nine after the first five', 9, 5, 4],
  ])('%s', (_name, n, shown, folded) => {
    const list = Array.from({ length: n }, (_, i) => f('under-provisioned/catalog', i * 120, 'catalog'));
    const out = groupFindings(list);
    expect(out.filter((e) => e.type === 'finding')).toHaveLength(shown);
    const fold = out.find((e) => e.type === 'folded');
    expect(fold?.type === 'folded' ? fold.findings.length : 0).toBe(folded);
    if (fold?.type === 'folded') {
      expect(fold.summary).toBe(
        '… and 4 more under-provisioned findings for catalog (4 min of windows in all)',
      );
      expect(fold.findings[0]?.window?.start).toBe(600);
    }
  });

  it('groups by subject: channels named in the id are separate groups, order is kept', () => {
    const list = [
      ...Array.from({ length: 7 }, (_, i) => f('budget-breach/web', i * 60)),
      f('budget-breach/pos', 0),
    ];
    const out = groupFindings(list);
    expect(out.map((e) => (e.type === 'finding' ? e.finding.id : 'folded'))).toEqual([
      'budget-breach/web@0',
      'budget-breach/web@60',
      'budget-breach/web@120',
      'budget-breach/web@180',
      'budget-breach/web@240',
      'folded',
      'budget-breach/pos@0',
    ]);
  });

  it('puts the fold right after the group’s fifth finding, even when others come between', () => {
    const list = Array.from({ length: 7 }, (_, i) => [
      f('under-provisioned/gateway', i * 60, 'gateway'),
      f('under-provisioned/cart', i * 60, 'cart'),
    ]).flat();
    const ids = groupFindings(list, 2).map((e) =>
      e.type === 'finding' ? e.finding.id : `fold:${e.findings.length}`,
    );
    expect(ids).toEqual([
      'under-provisioned/gateway@0',
      'under-provisioned/cart@0',
      'under-provisioned/gateway@60',
      'fold:5',
      'under-provisioned/cart@60',
      'fold:5',
    ]);
  });
});
