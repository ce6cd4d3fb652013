// The devices cgroup (v1): with CAP_MKNOD a container can make any device node, but may open only
// the devices its config allows (runc's default list plus linux.devices). runc and runts must
// agree on what is refused. On a cgroup v2-only host the rules need eBPF, which runts does not
// do yet: the file says so and checks the warning instead.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { runtime, makeBundle, newId, show } from '../lib/index.mjs';

const v1Devices = existsSync('/sys/fs/cgroup/devices/devices.allow');
// The host's first disk (readable by root without any capability when no device rule stops it)
// and /dev/fuse (c 10:229, openable by anyone, not in runc's allowed list).
const disk = readFileSync('/proc/partitions', 'utf8').split('\n').slice(2).map((l) => l.trim().split(/\s+/)).find((f) => f.length === 4) ?? ['8', '0'];
const probe = [
  'sh',
  '-c',
  `rm -f /tmp/disk /tmp/fuse /tmp/null; mknod /tmp/disk b ${disk[0]} ${disk[1]} && echo mknod-ok; head -c1 /tmp/disk >/dev/null 2>&1 && echo disk-open || echo disk-refused; ` +
    'mknod /tmp/fuse c 10 229; ( : </tmp/fuse ) 2>/dev/null && echo fuse-open || echo fuse-refused; ' +
    'mknod /tmp/null c 1 3; echo x > /tmp/null && echo null-ok',
];

describe('devices cgroup', { skip: v1Devices ? false : 'no v1 devices controller on this host (cgroup v2 device rules need eBPF, not implemented)' }, () => {
  let bundle;
  after(() => bundle?.cleanup());

  test('runc and runts refuse the same devices to a container with CAP_MKNOD', async (t) => {
    bundle = await makeBundle({
      name: 'devices',
      args: probe,
      edit(c) {
        c.root.readonly = false;
        for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set] = [...c.process.capabilities[set], 'CAP_MKNOD'];
      },
    });
    const out = {};
    for (const name of ['runc', 'runts']) {
      const rt = runtime(name);
      const id = newId(`dev-${name}`);
      t.after(() => rt.forceDelete(id));
      const r = await rt.run(id, { bundle: bundle.dir });
      assert.equal(r.code, 0, show(r));
      out[name] = r.stdout.trim().split('\n');
    }
    assert.deepEqual(out.runts, out.runc);
    assert.deepEqual(out.runts, ['mknod-ok', 'disk-refused', 'fuse-refused', 'null-ok']);
  });
});
