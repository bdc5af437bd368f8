/**
 * A local endpoint speaking the AWS wire protocols a CDK deploy starts with, for the deploy tests
 * (point the SDK at it with AWS_ENDPOINT_URL): STS GetCallerIdentity (the account of the test
 * credentials), CloudFormation DescribeStacks (no stack deployed yet), SSM GetParameter (no
 * bootstrap version: the account is not bootstrapped). Everything else is refused with AccessDenied
 * and recorded, so a test can assert what the toolkit tried. STS and CloudFormation speak the AWS
 * query protocol (form-encoded `Action=`, XML answers); SSM speaks AWS JSON 1.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The endpoint and what it was asked. */
export interface FakeCloudFormation {
  url: string;
  /** One line per request: `Action` (query protocol) or `x-amz-target`, else method and path. */
  calls: string[];
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';

const xmlError = (code: string, message: string) =>
  `<ErrorResponse xmlns="https://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r1</RequestId></ErrorResponse>`;

/** Starts the endpoint on 127.0.0.1 (random port). */
export async function startFakeCloudFormation(): Promise<FakeCloudFormation> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const form = new URLSearchParams(body);
      const action = form.get('Action');
      calls.push(action ?? (typeof target === 'string' ? target : `${req.method} ${req.url}`));
      if (action === 'GetCallerIdentity') {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${ACCOUNT}:user/test</Arn><UserId>AIDTEST</UserId><Account>${ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        );
      } else if (action === 'DescribeStacks') {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(xmlError('ValidationError', `Stack with id ${form.get('StackName')} does not exist`));
      } else if (target === 'AmazonSSM.GetParameter') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ParameterNotFound', message: 'ParameterNotFound' }));
      } else {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(xmlError('AccessDenied', 'not modelled by the test endpoint'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
