// The devices cgroup (v1 controller, and on this host also the cgroup v2 eBPF filter on the
// container's unified cgroup): with CAP_MKNOD a container can make any device node, but may open
// only the devices its config allows (runc's default list plus linux.resources.devices). A device
// listed in linux.devices gets a node, not a rule: an explicit deny for it holds (issue 9), and a
// listed default device (/dev/null) loses its default rule as in runc's createDevices.
// runc and runts must agree on everything refused.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runtime, makeBundle, newId, show } from '../lib/index.mjs';

const haveDevices = existsSync('/sys/fs/cgroup/devices/devices.allow') || existsSync('/sys/fs/cgroup/cgroup.controllers') || existsSync('/sys/fs/cgroup/unified/cgroup.procs');
// A block device the host's root can open (an unused loop device: this VM's root cannot open its
// own disk, so a refusal of the disk would prove nothing) and /dev/fuse (c 10:229, not in runc's list).
const blk = ['7', '0'];
const opened = (path, word) => `( : <${path} ) 2>/dev/t-err; if grep -q 'not permitted' /dev/t-err; then echo ${word}-refused; elif [ -s /dev/t-err ]; then echo ${word}-error; else echo ${word}-open; fi`;
// The nodes are made in the container's /dev (a tmpfs without nodev): a bundle under a nodev /tmp
// (the guest's) would refuse every node for another reason.
const probe = [
  'sh',
  '-c',
  `rm -f /dev/t-blk /dev/t-fuse /dev/t-null; mknod /dev/t-blk b ${blk[0]} ${blk[1]} && echo mknod-ok; ${opened('/dev/t-blk', 'blk')}; ` +
    `mknod /dev/t-fuse c 10 229; ${opened('/dev/t-fuse', 'fuse')}; [ -c /dev/fuse ] && ${opened('/dev/fuse', 'devfuse')}; ` +
    `mknod /dev/t-null c 1 3; ( echo x > /dev/t-null ) 2>/dev/null && echo null-ok || echo null-refused`,
];

const fuse = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o20666, uid: 0, gid: 0 };
const cases = [
  ['the default rules', () => {}, ['mknod-ok', 'blk-refused', 'fuse-refused', 'devfuse-refused', 'null-ok']],
  ['linux.devices with an explicit deny for it', (c) => {
    c.linux.devices = [fuse];
    c.linux.resources.devices = [{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }];
  }, ['mknod-ok', 'blk-refused', 'fuse-refused', 'devfuse-refused', 'null-ok']],
  ['linux.devices without any rule for it', (c) => {
    c.linux.devices = [fuse];
  }, ['mknod-ok', 'blk-refused', 'fuse-refused', 'devfuse-refused', 'null-ok']],
  ['linux.devices with an allow rule (what Podman --device sends)', (c) => {
    c.linux.devices = [fuse];
    c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  }, ['mknod-ok', 'blk-refused', 'fuse-open', 'devfuse-open', 'null-ok']],
  ['allow, then a later "rwa" deny (the last match wins; runc ignores the "a")', (c) => {
    c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwa' });
  }, ['mknod-ok', 'blk-refused', 'fuse-refused', 'devfuse-refused', 'null-ok']],
  ['allow-all, then deny the block device', (c) => {
    c.linux.resources.devices = [{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 7, minor: 0, access: 'rw' }];
  }, ['mknod-ok', 'blk-refused', 'fuse-open', 'devfuse-open', 'null-ok']],
  // runc fails at start ("error reopening /dev/null inside container: open /dev/null: operation not
  // permitted": its init reopens stdio that is /dev/null); runts has no such reopen and starts, but
  // /dev/null is refused in the container all the same
  ['/dev/null in linux.devices loses its default rule', (c) => {
    c.linux.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
  }, null],
];

describe('devices cgroup', { skip: haveDevices ? false : 'no devices controller and no cgroup2' }, () => {
  const bundles = [];
  after(() => bundles.forEach((b) => b.cleanup()));

  for (const [name, edit, want] of cases) {
    test(`runc and runts refuse the same devices: ${name}`, async (t) => {
      const bundle = await makeBundle({
        name: 'devices',
        args: probe,
        edit(c) {
          c.root.readonly = false;
          for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set] = [...c.process.capabilities[set], 'CAP_MKNOD'];
          edit(c);
        },
      });
      bundles.push(bundle);
      const out = {};
      for (const rtName of ['runc', 'runts']) {
        const rt = runtime(rtName);
        const id = newId(`dev-${rtName}`);
        t.after(() => rt.forceDelete(id));
        const r = await rt.run(id, { bundle: bundle.dir });
        if (want === null && rtName === 'runc') {
          assert.notEqual(r.code, 0, show(r));
          assert.match(r.stderr, /reopening \/dev\/null inside container: open \/dev\/null: operation not permitted/, show(r));
          continue;
        }
        if (want === null) {
          assert.match(r.stdout, /null-refused/, show(r));
          continue;
        }
        assert.equal(r.code, 0, show(r));
        assert.doesNotMatch(r.stderr, /warn/i, show(r));
        out[rtName] = r.stdout.trim().split('\n');
      }
      if (want === null) return;
      assert.deepEqual(out.runts, out.runc);
      assert.deepEqual(out.runts, want);
    });
  }

  test('a bad device rule: the same refusal as runc, naming the field', async (t) => {
    const bundle = await makeBundle({ name: 'devbad', args: ['true'], edit(c) { c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3 }); } });
    bundles.push(bundle);
    const res = {};
    for (const rtName of ['runc', 'runts']) {
      const rt = runtime(rtName);
      const id = newId(`devbad-${rtName}`);
      t.after(() => rt.forceDelete(id));
      res[rtName] = await rt.run(id, { bundle: bundle.dir });
      assert.ok(!rt.ids().includes(id), `${rtName} left a state dir`);
    }
    assert.notEqual(res.runc.code, 0, show(res.runc));
    assert.match(res.runc.stderr, /device access at 1 field cannot be empty/);
    assert.equal(res.runts.code, 1, show(res.runts));
    assert.match(res.runts.stderr, /linux\.resources\.devices\[1\]\.access: must not be empty/);
  });
});
