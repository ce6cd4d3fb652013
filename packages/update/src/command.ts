import type { CAC } from 'cac';
import { globalOptions, debug } from '@runts/core';
import { update, refreshDeviceFilter, readResources, resourcesFromFlags } from './index.ts';

const camel = (flag: string) => flag.slice(2).split(' ')[0]!.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

// runc update's flags (urfave/cli names); --cpu-shares is accepted too.
const FLAGS: Array<[string, keyof import('./index.ts').UpdateFlags, string]> = [
  ['--blkio-weight <value>', 'blkioWeight', 'per cgroup weight, range is from 10 to 1000'],
  ['--cpu-period <value>', 'cpuPeriod', 'CPU CFS period to be used for hardcapping (in usecs); 0 to use system default'],
  ['--cpu-quota <value>', 'cpuQuota', 'CPU CFS hardcap limit (in usecs); allowed cpu time in a given period'],
  ['--cpu-share <value>', 'cpuShare', 'CPU shares (relative weight vs. other containers)'],
  ['--cpu-shares <value>', 'cpuShare', 'same as --cpu-share'],
  ['--cpu-rt-period <value>', 'cpuRtPeriod', 'CPU realtime period to be used for hardcapping (in usecs)'],
  ['--cpu-rt-runtime <value>', 'cpuRtRuntime', 'CPU realtime hardcap limit (in usecs)'],
  ['--cpuset-cpus <value>', 'cpusetCpus', 'CPU(s) to use'],
  ['--cpuset-mems <value>', 'cpusetMems', 'memory node(s) to use'],
  ['--kernel-memory <value>', 'kernelMemory', 'kernel memory limit (ignored, as by runc)'],
  ['--kernel-memory-tcp <value>', 'kernelMemoryTcp', 'kernel memory limit for TCP buffers (cgroup v1)'],
  ['--memory <value>', 'memory', 'memory limit (bytes, or with a unit: 512m, 1g)'],
  ['--memory-reservation <value>', 'memoryReservation', 'memory reservation or soft_limit'],
  ['--memory-swap <value>', 'memorySwap', "total memory usage (memory + swap); '-1' for unlimited swap"],
  ['--pids-limit <value>', 'pidsLimit', 'maximum number of pids allowed in the container'],
];

/** Registers `update`: the default command of oci-update (name ''), or `runts update`. */
export function register(cli: CAC, name = ''): void {
  const cmd = cli
    .command(name === '' ? '<id>' : `${name} <id>`, 'update container resource constraints')
    .usage(
      '<container-id> [--resources FILE|-] [flags]\n\nWith --resources (an OCI LinuxResources JSON object; - reads stdin) the other flags are ignored, as in runc.\nExit codes: 0, or 1 (`container not running`, `container does not exist`, a limit the kernel refuses).',
    )
    .option('-r, --resources <file>', "path to the file containing the resources to update or '-' to read from the standard input");
  for (const [flag, , desc] of FLAGS) cmd.option(flag, desc);
  cmd.action(async (id: string, opts: Record<string, unknown>) => {
    let resources;
    if (typeof opts.resources === 'string' && opts.resources !== '') resources = readResources(opts.resources);
    else {
      const flags: Record<string, string> = {};
      for (const [flag, key] of FLAGS) {
        const v = opts[camel(flag)];
        if (typeof v === 'string') flags[key] = v;
      }
      resources = resourcesFromFlags(flags);
    }
    const writes = await update({ root: globalOptions(opts).root, id, resources });
    for (const w of writes) debug(`update ${id}: ${w.field}: ${w.file} <- ${w.value}`);
    await refreshDeviceFilter({ root: globalOptions(opts).root, id });
  });
}
