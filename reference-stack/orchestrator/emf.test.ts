import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmfWriter, type EmfRecordInput, formatEmfRecord, parseEmfText, readEmfFile } from './emf.ts';

type EmfJson = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: unknown[] }[];
  };
};

const info = { eventTime: 120, period: 60, service: 'catalog', arch: 'headless' };

const cases: { name: string; input: EmfRecordInput; namespace: string; dims: string[] }[] = [
  {
    name: 'ECS CPU and memory carry ClusterName and ServiceName',
    input: {
      group: 'AWS/ECS',
      dimensions: { ClusterName: 'peakday-headless', ServiceName: 'catalog' },
      values: { CPUUtilization: 42.5, MemoryUtilization: 18 },
      info,
      timestampMs: 1_700_000_000_000,
    },
    namespace: 'AWS/ECS',
    dims: ['ClusterName', 'ServiceName'],
  },
  {
    name: 'ALB metrics carry LoadBalancer and TargetGroup',
    input: {
      group: 'AWS/ApplicationELB',
      dimensions: { LoadBalancer: 'app/peakday-headless/local', TargetGroup: 'targetgroup/catalog/local' },
      values: { RequestCount: 100, RequestCountPerTarget: 50, TargetResponseTime: 0.012 },
      info,
      timestampMs: 1_700_000_000_000,
    },
    namespace: 'AWS/ApplicationELB',
    dims: ['LoadBalancer', 'TargetGroup'],
  },
  {
    name: 'DynamoDB throttles carry TableName and Operation under the AWS/DynamoDB namespace',
    input: {
      group: 'AWS/DynamoDB#throttles',
      dimensions: { TableName: 'inventory', Operation: 'UpdateItem' },
      values: { ThrottledRequests: 3 },
      info,
      timestampMs: 1_700_000_000_000,
    },
    namespace: 'AWS/DynamoDB',
    dims: ['TableName', 'Operation'],
  },
];

describe('EMF records', () => {
  it.each(cases)('$name', ({ input, namespace, dims }) => {
    const rec = formatEmfRecord(input) as EmfJson;
    expect(rec._aws.Timestamp).toBe(1_700_000_000_000);
    expect(rec._aws.CloudWatchMetrics[0]!.Namespace).toBe(namespace);
    expect(rec._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([dims]);
    for (const [k, v] of Object.entries(input.values)) expect(rec[k]).toBe(v);
    for (const d of dims) expect(typeof rec[d]).toBe('string');
    expect(rec.peakday).toEqual(info);
    // round trip through the reader
    const { data, problems } = parseEmfText(`${JSON.stringify(rec)}\n`);
    expect(problems).toEqual([]);
    expect(data.map((d) => d.name).sort()).toEqual(Object.keys(input.values).sort());
    expect(
      data.every((d) => d.namespace === namespace && d.eventTime === 120 && d.service === 'catalog'),
    ).toBe(true);
  });

  it('refuses a metric name that CloudWatch does not have in that namespace', () => {
    expect(() =>
      formatEmfRecord({
        group: 'AWS/ECS',
        dimensions: { ClusterName: 'c', ServiceName: 's' },
        values: { RequestCount: 1 },
        info,
        timestampMs: 0,
      }),
    ).toThrow(/not a AWS\/ECS metric/);
  });

  it('refuses a record without one of its dimensions', () => {
    expect(() =>
      formatEmfRecord({
        group: 'AWS/ECS',
        dimensions: { ClusterName: 'c' },
        values: { CPUUtilization: 1 },
        info,
        timestampMs: 0,
      }),
    ).toThrow(/ServiceName/);
  });

  it('drops non-finite values instead of writing invalid JSON numbers', () => {
    const rec = formatEmfRecord({
      group: 'AWS/ApplicationELB',
      dimensions: { LoadBalancer: 'lb', TargetGroup: 'tg' },
      values: { RequestCount: 0, TargetResponseTime: Number.NaN },
      info,
      timestampMs: 0,
    }) as EmfJson;
    expect(rec.TargetResponseTime).toBeUndefined();
    expect(rec._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'RequestCount', Unit: 'Count' }]);
  });

  it('reports a broken line in the middle with its line number, and skips a torn last line', () => {
    const good = JSON.stringify(formatEmfRecord(cases[0]!.input));
    const { data, problems } = parseEmfText(`${good}\n{"_aws":{}}\n${good}\n{"_aws":{"Tim`);
    expect(data).toHaveLength(4);
    expect(problems).toEqual([{ line: 2, message: '_aws.Timestamp must be epoch ms' }]);
  });

  it('reads arrays of values as EMF allows', () => {
    const text = JSON.stringify({
      _aws: {
        Timestamp: 5,
        CloudWatchMetrics: [{ Namespace: 'X', Dimensions: [['A']], Metrics: [{ Name: 'M', Unit: 'Count' }] }],
      },
      A: 'a',
      M: [1, 2],
    });
    expect(parseEmfText(text).data.map((d) => d.value)).toEqual([1, 2]);
  });
});

describe('the EMF writer', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one line per record and creates the telemetry directory', () => {
    dir = mkdtempSync(join(tmpdir(), 'peakday-emf-'));
    const file = join(dir, 'telemetry', 'metrics.ndjson');
    const w = createEmfWriter(file);
    w.write([cases[0]!.input, cases[1]!.input]);
    w.write([cases[2]!.input]);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    const { data, problems } = readEmfFile(file);
    expect(problems).toEqual([]);
    expect(data).toHaveLength(6);
  });

  it('reads a missing file as no data', () => {
    dir = mkdtempSync(join(tmpdir(), 'peakday-emf-'));
    expect(readEmfFile(join(dir, 'none.ndjson'))).toEqual({ data: [], problems: [] });
  });
});
