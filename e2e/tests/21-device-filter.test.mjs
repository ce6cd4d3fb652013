// The cgroup v2 eBPF device filter (BPF_PROG_TYPE_CGROUP_DEVICE), on the unified hierarchy of this
// host (hybrid: cgroup2 at /sys/fs/cgroup/unified runs BPF cgroup programs).
//  - A bare cgroup with the filter of runc's default rules: a process in it may make any node but
//    opens only the allowed devices (EPERM for the disk); re-attaching replaces the old program.
//  - A real runts container: on a pure v2 host its cgroup holds the filter (a host process moved
//    into that cgroup cannot open the disk); on a hybrid host, as with runc and crun, its v1 devices
//    cgroup holds the rules (a host process moved there cannot open the disk) and its unified cgroup
//    has no program (one moved there, still in the root v1 devices cgroup, can). A bad device rule
//    fails create naming the field, with nothing left behind.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, spawnCapture, TAG, PREFIX, REPO } from '../lib/index.mjs';

const UNIFIED = '/sys/fs/cgroup/unified';
const haveUnified = existsSync(join(UNIFIED, 'cgroup.procs')) || existsSync('/sys/fs/cgroup/cgroup.controllers');
const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : UNIFIED;
// a hybrid host with the v1 devices controller: the rules are enforced there, not by a filter
const V1_DEVICES = V2 === UNIFIED && existsSync('/sys/fs/cgroup/devices/devices.allow') ? '/sys/fs/cgroup/devices' : undefined;
// the library bundle, with the repository's executor
process.env.RUNTS_INIT ??= join(REPO, 'native/nsenter/build/runts-init');
const cg = await import(join(REPO, 'packages/cgroups/dist/index.js'));
// A block device the host's root can open: loop0 (7:0; this VM's root cannot open its own disk,
// which would make "refused" prove nothing).
const disk = ['7', '0'];
// in the host's /dev (devtmpfs): a nodev /tmp (the guest's) would refuse every node for another reason
const tmp = `/dev/${PREFIX}${TAG}-devnode-${process.pid}`;

/** A shell that joins the cgroup, then tries the devices; one word per check. */
const probe = (dir) =>
  `echo $$ > ${dir}/cgroup.procs || exit 9; rm -f ${tmp}; busybox mknod ${tmp} b ${disk[0]} ${disk[1]} && echo mknod-ok || echo mknod-refused; ` +
  `if [ -b ${tmp} ]; then busybox head -c1 ${tmp} >/dev/null 2>${tmp}.err; if grep -q 'not permitted' ${tmp}.err; then echo disk-refused; elif [ -s ${tmp}.err ]; then echo disk-error; else echo disk-allowed; fi; else echo disk-no-node; fi; ` +
  `echo x > /dev/null && echo null-ok; ( : </dev/fuse ) 2>${tmp}.err; if grep -q 'not permitted' ${tmp}.err; then echo fuse-refused; elif [ -s ${tmp}.err ]; then echo fuse-error; else echo fuse-allowed; fi; rm -f ${tmp} ${tmp}.err`;

describe('cgroup v2 device filter', { skip: haveUnified ? false : 'no cgroup2 mount' }, () => {
  test('a bare cgroup: denied devices give EPERM, allowed ones open; an update replaces the program', async (t) => {
    const dir = join(V2, `${PREFIX}${TAG}-devfilter-${process.pid}`);
    mkdirSync(dir);
    t.after(() => {
      try {
        rmdirSync(dir);
      } catch {
        /* reported by the leak check */
      }
    });
    await cg.attachDeviceFilter(dir, cg.deviceRules([{ allow: false, access: 'rwm' }], []));
    let r = await spawnCapture(['sh', '-c', probe(dir)]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(r.stdout.trim().split('\n'), ['mknod-ok', 'disk-refused', 'null-ok', 'fuse-refused']);
    // mknod itself can be denied too
    await cg.attachDeviceFilter(dir, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    r = await spawnCapture(['sh', '-c', probe(dir)]);
    assert.deepEqual(r.stdout.trim().split('\n'), ['mknod-refused', 'disk-no-node', 'null-ok', 'fuse-refused'], show(r));
    // an explicit allow of the disk and fuse: the old (denying) program must be gone, not just joined by the new one
    await cg.attachDeviceFilter(dir, cg.deviceRules([{ allow: true, type: 'b', major: Number(disk[0]), minor: Number(disk[1]), access: 'r' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }], []));
    r = await spawnCapture(['sh', '-c', probe(dir)]);
    assert.deepEqual(r.stdout.trim().split('\n'), ['mknod-ok', 'disk-allowed', 'null-ok', 'fuse-allowed'], show(r));
  });

  test('a bad program dir names the field and leaves nothing', async () => {
    await assert.rejects(cg.attachDeviceFilter(join(V2, `${PREFIX}${TAG}-missing`), []), /linux.resources.devices: device filter: open .*-missing: no such file or directory/);
    // best effort (hybrid hosts): the same failure is not an error
    await cg.attachDeviceFilter(join(V2, `${PREFIX}${TAG}-missing`), [], { bestEffort: true });
  });

  describe('a runts container', () => {
    let bundle;
    after(() => bundle?.cleanup());
    test(V1_DEVICES ? 'hybrid: its v1 devices cgroup holds its rules, its unified cgroup no filter' : 'its cgroup holds the filter of its rules', async (t) => {
      const rt = runtime('runts');
      const id = newId('devf');
      const path = `/${id}`;
      bundle = await makeBundle({ name: 'devfilter', args: ['sleep', '60'], edit(c) { c.linux.cgroupsPath = path; } });
      t.after(() => rt.forceDelete(id));
      const r = await rt.create(id, { bundle: bundle.dir });
      assert.equal(r.code, 0, show(r));
      assert.doesNotMatch(r.stderr, /not enforced|eBPF/);
      const enforcing = join(V1_DEVICES ?? V2, path);
      const refused = ['mknod-ok', 'disk-refused', 'null-ok', 'fuse-refused'];
      // a host shell moved into the cgroup that enforces the rules (on pure v2, the filter)
      const p = await spawnCapture(['sh', '-c', probe(enforcing)]);
      assert.deepEqual(p.stdout.trim().split('\n'), refused, show(p));
      if (V1_DEVICES) {
        // in the container's unified cgroup but the host's (allow-all) v1 devices cgroup: no program refuses
        const free = await spawnCapture(['sh', '-c', probe(join(V2, path))]);
        assert.deepEqual(free.stdout.trim().split('\n'), ['mknod-ok', 'disk-allowed', 'null-ok', 'fuse-allowed'], show(free));
      }
      // update sets the rules again (runc's fs2 Set attaches the filter again, replacing it): the same answers after
      const u = await spawnCapture([...rt.argv('state').slice(0, -1), 'update', '--pids-limit', '50', id]);
      assert.equal(u.code, 0, show(u));
      const p2 = await spawnCapture(['sh', '-c', probe(enforcing)]);
      assert.deepEqual(p2.stdout.trim().split('\n'), refused, show(p2));
    });

    test('a bad device rule: create fails naming the field, no state, no cgroup', async (t) => {
      const rt = runtime('runts');
      const id = newId('devbad');
      const b = await makeBundle({ name: 'devbad', args: ['true'], edit(c) { c.linux.cgroupsPath = `/${id}`; c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3 }); } });
      t.after(() => b.cleanup());
      t.after(() => rt.forceDelete(id));
      const r = await rt.create(id, { bundle: b.dir });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /linux\.resources\.devices\[1\]\.access: must not be empty/);
      assert.ok(!rt.ids().includes(id));
      assert.ok(!readdirSync(V2).includes(id), 'no cgroup left');
      const punch = await makeBundle({ name: 'devpunch', args: ['true'], edit(c) { c.linux.resources.devices = [{ allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }]; } });
      t.after(() => punch.cleanup());
      const id2 = newId('devpunch');
      t.after(() => rt.forceDelete(id2));
      const r2 = await rt.create(id2, { bundle: punch.dir });
      assert.equal(r2.code, 1, show(r2));
      assert.match(r2.stderr, /linux\.resources\.devices\[1\]: deny c 1:3 rw: not supported by the devices cgroup \(cannot punch a hole/);
      assert.ok(!rt.ids().includes(id2));
    });
  });
});
