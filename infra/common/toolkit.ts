/**
 * The AWS CDK toolkit, programmatically (@aws-cdk/toolkit-lib: no global CLI), behind the small
 * interface the deploy workflow needs: diff, deploy, destroy one stack. The workflow is tested with
 * its own implementation of {@link StackToolkit}; this one talks to CloudFormation for real.
 *
 * toolkit-lib and aws-cdk-lib are imported inside {@link createCdkToolkit}, so importing this module
 * costs nothing. The AWS SDK's Node 20 support warning is switched off here (the SDK reads
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED), so it never reaches the user's terminal as noise.
 */
import type { App } from 'aws-cdk-lib';

/** What a diff found, in a form the workflow can print and decide on. */
export interface StackDiffSummary {
  /** The diff as the toolkit formats it (resources added, changed, removed; IAM and security changes). */
  text: string;
  /** Number of differences (0: the deployed stack already matches). */
  changes: number;
}

/** One stack's lifecycle, as the deploy workflow uses it. */
export interface StackToolkit {
  diff(): Promise<StackDiffSummary>;
  /** Deploys (publishing assets first: the services' image is built here) and returns the stack's outputs. */
  deploy(): Promise<Record<string, string>>;
  destroy(): Promise<void>;
  /** Bootstraps the stack's account and region for the CDK (the assets bucket and repository, roles). */
  bootstrap(): Promise<void>;
}

/** Where the toolkit works and how it reports. */
export interface CdkToolkitOptions {
  /** Builds the app to deploy (called with the directory the toolkit chose for the assembly). */
  build: (outdir: string | undefined) => Promise<App>;
  stackName: string;
  region: string;
  profile?: string;
  /** Progress lines (stack events, asset publishing, warnings). */
  progress: (line: string) => void;
}

/** Creates the real toolkit (credentials as the AWS CLI finds them: env, profile, SSO, instance role). */
export async function createCdkToolkit(options: CdkToolkitOptions): Promise<StackToolkit> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const lib = await import('@aws-cdk/toolkit-lib');
  let diffText: string[] = [];
  const ioHost = {
    async notify(msg: { level: string; code?: string; message: string }): Promise<void> {
      if (msg.code === 'CDK_TOOLKIT_I4002') {
        diffText.push(msg.message);
        return;
      }
      // Errors are thrown to the workflow (and reported once, with a hint), not printed here.
      if (msg.level === 'warn' || msg.level === 'result' || msg.level === 'info')
        for (const line of msg.message.split('\n')) if (line.trim()) options.progress(line);
    },
    async requestResponse<T>(msg: { code?: string; defaultResponse: T }): Promise<T> {
      // The user confirmed the diff (or passed --yes) before deploy was called.
      if (msg.code === 'CDK_TOOLKIT_I5060') return true as T;
      return msg.defaultResponse;
    },
  };
  const toolkit = new lib.Toolkit({
    ioHost: ioHost as never,
    color: false,
    emojis: false,
    sdkConfig: {
      baseCredentials: lib.BaseCredentials.awsCliCompatible({
        ...(options.profile ? { profile: options.profile } : {}),
        defaultRegion: options.region,
      }),
    },
  });
  const cx = await toolkit.fromAssemblyBuilder(
    async (props) => (await options.build(props.outdir)).synth() as never,
  );
  const stacks = { strategy: lib.StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: [options.stackName] };
  return {
    async diff() {
      diffText = [];
      const result = await toolkit.diff(cx, { stacks });
      const changes = Object.values(result).reduce((a, d) => a + (d.differenceCount ?? 0), 0);
      return { text: diffText.join('\n'), changes };
    },
    async deploy() {
      const result = await toolkit.deploy(cx, { stacks });
      const stack = result.stacks.find((s) => s.stackName === options.stackName) ?? result.stacks[0];
      return { ...(stack?.outputs ?? {}) };
    },
    async destroy() {
      await toolkit.destroy(cx, { stacks });
    },
    async bootstrap() {
      await toolkit.bootstrap(await lib.BootstrapEnvironments.fromCloudAssemblySource(cx));
    },
  };
}
