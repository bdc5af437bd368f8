/**
 * Starts dynalite (a DynamoDB API implementation in Node) in the test process on 127.0.0.1 and an
 * ephemeral port, in memory, and creates the reference stack's tables under a fresh prefix: what the
 * DynamoDB store adapter's tests run against, no AWS account needed.
 */
import type { AddressInfo } from 'node:net';
import { type DynamoStoreConfig, ensureTables, localTableNames } from '../reference-stack/store/dynamodb.ts';

/** A running dynalite with the tables created. */
export interface TestDynamo {
  endpoint: string;
  config: DynamoStoreConfig;
  stop(): Promise<void>;
}

let seq = 0;

/** How long stop() waits for dynalite to finish the requests it is working on, ms. */
const STOP_WAIT_MS = 10_000;

/** Starts dynalite and creates the tables (prefix unique per call). */
export async function startDynalite(): Promise<TestDynamo> {
  // dynalite ships no types; its factory returns a node:http server.
  const { default: dynalite } = (await import('dynalite' as string)) as {
    default: (o: {
      createTableMs: number;
      deleteTableMs: number;
      updateTableMs: number;
    }) => import('node:http').Server;
  };
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // Every request's response, until dynalite has answered it: stop() waits for them, because dynalite
  // keeps working on a request whose client went away (a replica stopped mid-call) and throws an
  // uncaught "Database is not open" if its store is closed under that work.
  const answering = new Set<import('node:http').ServerResponse>();
  server.on('request', (_req, res: import('node:http').ServerResponse) => {
    answering.add(res);
    const done = () => {
      if (res.writableEnded) answering.delete(res);
    };
    res.on('finish', done);
    res.on('close', done);
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config: DynamoStoreConfig = {
    endpoint,
    region: 'us-east-1',
    tables: localTableNames(`peakday-test-${process.pid}-${++seq}`),
  };
  await ensureTables(config);
  return {
    endpoint,
    config,
    stop: async () => {
      const deadline = Date.now() + STOP_WAIT_MS;
      for (;;) {
        for (const res of answering) if (res.writableEnded) answering.delete(res);
        if (answering.size === 0 || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
