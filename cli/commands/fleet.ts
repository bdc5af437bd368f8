/**
 * `peakday fleet ...`: load generators beyond one machine (docs/fleet.md). `size` says how many
 * generators of which size a plan needs (scenarios/fleet-size.ts); `synth|deploy|destroy` manage the
 * ECS Fargate fleet stack (workflows/fleet-stack.ts, infra/fleet/); `gather` turns the k6 outputs a
 * fleet left (k6-operator runner pods) into one run (engine/k6/gather.ts).
 */
import type { Command } from 'commander';
import type { ProfileFlags } from '../../scenarios/compile-options.ts';

interface StackFlags {
  region: string;
  vcpu: string;
  memory: string;
  cpuArch: string;
  vpcId?: string;
  retentionDays: string;
  profile?: string;
  yes?: boolean;
  out?: string;
}

/** A yes/no question on the terminal; absent when stdin is not one (CI must pass --yes). */
function terminalConfirm(): ((q: string) => Promise<boolean>) | undefined {
  if (process.stdin.isTTY !== true) return undefined;
  return async (question) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}

async function stackOptions(f: StackFlags) {
  const { validationError } = await import('../../core/errors.ts');
  const problems = [];
  const vcpu = Number(f.vcpu);
  const memoryGb = Number(f.memory);
  const retention = Number(f.retentionDays);
  if (!Number.isFinite(vcpu))
    problems.push({ path: '--vcpu', message: `"${f.vcpu}" is not a number`, expected: 'e.g. 2' });
  if (!Number.isFinite(memoryGb))
    problems.push({ path: '--memory', message: `"${f.memory}" is not a number of GB`, expected: 'e.g. 4' });
  if (f.cpuArch !== 'arm64' && f.cpuArch !== 'x86_64')
    problems.push({
      path: '--cpu-arch',
      message: `"${f.cpuArch}" is not arm64 or x86_64`,
      expected: 'arm64 or x86_64',
    });
  if (!Number.isInteger(retention) || retention < 1)
    problems.push({
      path: '--retention-days',
      message: `"${f.retentionDays}" is not a whole number of days`,
      expected: 'e.g. 14',
    });
  if (f.vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(f.vpcId))
    problems.push({
      path: '--vpc-id',
      message: `"${f.vpcId}" is not a VPC id`,
      expected: 'vpc-0123456789abcdef0',
    });
  if (problems.length > 0) throw validationError('fleet-flags-invalid', 'peakday fleet', problems);
  return {
    region: f.region,
    vcpu,
    memoryGb,
    cpuArchitecture: f.cpuArch as 'arm64' | 'x86_64',
    resultsRetentionDays: retention,
    ...(f.vpcId ? { vpcId: f.vpcId } : {}),
  };
}

function stackCommand(cmd: Command): Command {
  return cmd
    .option(
      '--region <region>',
      'AWS region',
      process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    )
    .option('--vcpu <n>', 'vCPU per generator (Fargate: 1, 2, 4, 8, 16; see `peakday fleet size`)', '2')
    .option('--memory <gb>', "memory per generator in GB (within Fargate's range for the vCPU)", '4')
    .option('--cpu-arch <arch>', 'arm64 or x86_64', 'arm64')
    .option('--vpc-id <id>', "run in this VPC (the reference stack's); default: the account's default VPC")
    .option('--retention-days <n>', 'days the results bucket keeps run objects', '14');
}

/** Registers `peakday fleet`. */
export function register(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('load generators beyond one machine: k6 on Kubernetes (k6-operator) and ECS Fargate');
  fleet
    .command('size')
    .description('how many k6 generators of which Fargate size the plan needs at its peak, and why')
    .argument('<profile>', 'built-in profile name or a profile YAML file')
    .requiredOption('--peak-rps <rps>', 'HTTP requests per second at the highest level')
    .option('--duration <duration>', "wall-clock length (default: the profile's local.duration)")
    .option('--rps-per-vcpu <n>', 'requests/s one vCPU of k6 sends (default: measured, docs/sources.md)')
    .option('--mb-per-vu <mb>', 'memory per VU in MB (default: measured, docs/sources.md)')
    .option('--cpu-target <share>', "share of a generator's vCPU to use at the peak (default 0.6)")
    .option('--response-ms <ms>', 'assumed response time per request for the VU estimate (default 250)')
    .option('--max-rps <rps>', 'raise the live peak-rate limit (default 20000 requests/s)')
    .option('--json', 'print the answer as JSON')
    .action(
      async (
        profileArg: string,
        flags: ProfileFlags & {
          rpsPerVcpu?: string;
          mbPerVu?: string;
          cpuTarget?: string;
          responseMs?: string;
          json?: boolean;
        },
      ) => {
        const [
          { computeFleetSize, DEFAULT_FLEET_SIZE_INPUTS },
          { resolvePlan },
          { createOutput },
          { validationError },
        ] = await Promise.all([
          import('../../scenarios/fleet-size.ts'),
          import('../../workflows/run.ts'),
          import('../output.ts'),
          import('../../core/errors.ts'),
        ]);
        const problems: { path: string; message: string; expected: string }[] = [];
        const num = (
          path: string,
          v: string | undefined,
          ok: (n: number) => boolean,
          fallback: number,
          expected: string,
        ) => {
          if (v === undefined) return fallback;
          const n = Number(v);
          if (ok(n)) return n;
          problems.push({ path, message: `"${v}" is not valid`, expected });
          return fallback;
        };
        const d = DEFAULT_FLEET_SIZE_INPUTS;
        const inputs = {
          ...d,
          rpsPerVcpu: num(
            '--rps-per-vcpu',
            flags.rpsPerVcpu,
            (n) => n > 0,
            d.rpsPerVcpu,
            'a positive rate, e.g. 1300',
          ),
          mbPerVu: num('--mb-per-vu', flags.mbPerVu, (n) => n > 0, d.mbPerVu, 'MB, e.g. 1'),
          cpuTarget: num(
            '--cpu-target',
            flags.cpuTarget,
            (n) => n > 0 && n <= 1,
            d.cpuTarget,
            'a share in (0, 1], e.g. 0.6',
          ),
          responseSeconds:
            num(
              '--response-ms',
              flags.responseMs,
              (n) => n >= 0,
              d.responseSeconds * 1000,
              'milliseconds, e.g. 250',
            ) / 1000,
        };
        if (problems.length > 0) throw validationError('fleet-flags-invalid', 'peakday fleet size', problems);
        const [{ compileOptionsFrom }, { readConfig }] = await Promise.all([
          import('../../scenarios/compile-options.ts'),
          import('../../core/config.ts'),
        ]);
        const { plan } = await resolvePlan({
          profile: profileArg,
          compile: compileOptionsFrom(flags, readConfig(), { live: true }),
        });
        const r = computeFleetSize(plan, inputs);
        const out = createOutput();
        if (flags.json) return out.json(r);
        const rec = r.recommended;
        out.out(
          `${plan.profile.name} at ${r.peakRps.toFixed(0)} requests/s: ${rec.generators} generator(s) of ${rec.vcpu} vCPU / ${rec.memoryGb} GB (about $${rec.usdPerHour.toFixed(2)}/h while running), ${r.vus} VUs in all`,
        );
        out.out('  vCPU  memory  generators  VUs each  bound by  $/h');
        for (const o of r.options)
          out.out(
            `  ${String(o.vcpu).padStart(4)}  ${`${o.memoryGb} GB`.padStart(6)}  ${String(o.generators).padStart(10)}  ${String(o.vusPerGenerator).padStart(8)}  ${o.boundBy.padStart(8)}  ${o.usdPerHour.toFixed(2)}${o === rec ? '  <- cheapest' : ''}`,
          );
        out.out('why:');
        for (const w of r.why) out.out(`  - ${w}`);
        out.out(`deploy it: peakday fleet deploy --vcpu ${rec.vcpu} --memory ${rec.memoryGb}`);
      },
    );
  stackCommand(
    fleet
      .command('synth')
      .description('synthesize the ECS Fargate fleet stack offline (template and cdk-nag report)')
      .option('--out <dir>', 'where the cloud assembly goes (default .peakday/fleet-cdk.out)'),
  ).action(async (flags: StackFlags) => {
    const [{ synthFleet }, { createOutput }, { formatNagReport }, { join }] = await Promise.all([
      import('../../workflows/fleet-stack.ts'),
      import('../output.ts'),
      import('../../infra/common/nag.ts'),
      import('node:path'),
    ]);
    const s = await synthFleet({
      ...(await stackOptions(flags)),
      outdir: flags.out ?? join('.peakday', 'fleet-cdk.out'),
    });
    const out = createOutput();
    out.out(`synthesized ${s.stackName}: ${s.templateFile}`);
    out.out(formatNagReport(s.nag).trimEnd());
    if (s.nag.findings.length > 0) process.exitCode = 1;
  });
  stackCommand(
    fleet
      .command('deploy')
      .description('deploy the ECS Fargate fleet stack and write .peakday/fleet.json for run --fleet ecs')
      .option('--profile <name>', 'AWS profile')
      .option('--yes', 'deploy without asking'),
  ).action(async (flags: StackFlags) => {
    const [{ deployFleet, defaultFleetFile }, { createOutput }] = await Promise.all([
      import('../../workflows/fleet-stack.ts'),
      import('../output.ts'),
    ]);
    const out = createOutput();
    const confirm = flags.yes ? undefined : terminalConfirm();
    const r = await deployFleet(
      {
        ...(await stackOptions(flags)),
        ...(flags.profile ? { profile: flags.profile } : {}),
        yes: flags.yes === true,
        fleetFile: defaultFleetFile(process.cwd()),
      },
      { progress: (l) => out.err(l), ...(confirm ? { confirm } : {}) },
    );
    out.out(r.deployed ? `deployed; fleet file ${defaultFleetFile(process.cwd())}` : 'not deployed');
  });
  stackCommand(
    fleet
      .command('destroy')
      .description('destroy the ECS Fargate fleet stack (the results bucket is kept)')
      .option('--profile <name>', 'AWS profile')
      .option('--yes', 'destroy without asking'),
  ).action(async (flags: StackFlags) => {
    const [{ destroyFleet }, { createOutput }] = await Promise.all([
      import('../../workflows/fleet-stack.ts'),
      import('../output.ts'),
    ]);
    const out = createOutput();
    const confirm = flags.yes ? undefined : terminalConfirm();
    const done = await destroyFleet(
      {
        ...(await stackOptions(flags)),
        ...(flags.profile ? { profile: flags.profile } : {}),
        yes: flags.yes === true,
      },
      { progress: (l) => out.err(l), ...(confirm ? { confirm } : {}) },
    );
    out.out(done ? 'destroyed (the results bucket is kept)' : 'not destroyed');
  });
  fleet
    .command('gather')
    .description(
      "merge the k6 outputs of a fleet's generators (one folder per runner pod) into one run, checked against the plan",
    )
    .argument(
      '<dir>',
      'folder holding one folder per generator with k6-out.ndjson (and k6-summary.json, k6-console.txt)',
    )
    .requiredOption('--plan <file>', 'the plan.json written by profile export-k6 --k6-operator')
    .requiredOption('--out <dir>', 'run directory to write')
    .option('--json', 'print the merged summary as JSON')
    .action(async (dir: string, flags: { plan: string; out: string; json?: boolean }) => {
      const [{ gatherFleetOutputs }, { readPlanFile }, { createOutput }] = await Promise.all([
        import('../../engine/k6/gather.ts'),
        import('../../scenarios/plan-file.ts'),
        import('../output.ts'),
      ]);
      const out = createOutput();
      const r = await gatherFleetOutputs(dir, readPlanFile(flags.plan), flags.out);
      if (flags.json) return out.json({ dir: flags.out, ...r });
      out.out(`gathered into ${flags.out}${r.summary.partial ? ' (partial)' : ''}`);
      if (r.missingSegments.length > 0) out.out(`missing segments: ${r.missingSegments.join(', ')}`);
      out.out(
        `iterations: planned ${r.summary.iterations.planned}, started ${r.summary.iterations.started}, dropped ${r.summary.iterations.dropped}; requests ${r.summary.requests.total}, failed ${r.summary.requests.failed}`,
      );
      out.out(r.summary.valid ? 'valid: yes' : `VALID: NO — ${r.summary.invalidReasons.join('; ')}`);
    });
}
