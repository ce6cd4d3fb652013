#!/usr/bin/env node
// What the cgroup v2 device filter costs a create (a measurement, not a test; root, cgroup2 mounted):
// generating the program in TS, and the executor's bpf(2) calls (a NoInit run of runts-init with
// the DeviceFilter step, against the same run whose step fails at once on a missing dir, best effort).
//   node tools/bench/devfilter-cost.mjs        (build first: NX_DAEMON=false pnpm build)
import { mkdirSync, rmdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
process.env.RUNTS_INIT ??= join(REPO, 'native/nsenter/build/runts-init');
const cg = await import(join(REPO, 'packages/cgroups/dist/index.js'));
const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
const dir = join(v2, `runts-devfilter-cost-${process.pid}`);
const rules = cg.deviceRules([{ allow: false, access: 'rwm' }], []);
const N = 60;
/** The two variants alternate (a loaded machine slows both alike); min and median of each. */
const timeBoth = async (fs) => {
  const xs = fs.map(() => []);
  for (let i = 0; i < N; i++)
    for (const [j, f] of fs.entries()) {
      const t0 = process.hrtime.bigint();
      await f();
      xs[j].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  return xs.map((a) => a.sort((p, q) => p - q)).map((a) => ({ min: a[0], median: a[N >> 1] }));
};
let t = process.hrtime.bigint();
for (let i = 0; i < 1000; i++) cg.deviceFilter(cg.emulate(rules));
console.log(`generate (emulate + program): ${(Number(process.hrtime.bigint() - t) / 1e6 / 1000).toFixed(3)} ms`);
mkdirSync(dir);
try {
  const [w, wo] = await timeBoth([() => cg.attachDeviceFilter(dir, rules), () => cg.attachDeviceFilter('/nonexistent', rules, { bestEffort: true })]);
  console.log(`executor run with the bpf calls: min ${w.min.toFixed(2)} / median ${w.median.toFixed(2)} ms; without: min ${wo.min.toFixed(2)} / median ${wo.median.toFixed(2)} ms (${N} each, alternated)`);
  console.log(`the calls: ${(w.min - wo.min).toFixed(2)} ms (min), ${(w.median - wo.median).toFixed(2)} ms (median)`);
} finally {
  rmdirSync(dir);
}
