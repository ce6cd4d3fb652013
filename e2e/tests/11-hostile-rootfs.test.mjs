// A hostile rootfs: symlinks inside it that point out of it ("/../../../..", absolute host paths)
// must be followed inside the rootfs only (openat2 RESOLVE_IN_ROOT), so mounts and created
// directories stay in the container and nothing changes on the host. runc (securejoin) agrees.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, symlinkSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, RUN_DIR } from '../lib/index.mjs';

const hostDir = join(RUN_DIR, `hostile-${process.pid}`); // must never appear

describe('hostile rootfs', () => {
  const bundles = [];
  after(() => {
    for (const b of bundles) b.cleanup();
    rmSync(hostDir, { recursive: true, force: true });
  });

  for (const name of ['runc', 'runts']) {
    test(`${name}: mounts through symlinks that point out of the rootfs stay inside it`, async (t) => {
      const bundle = await makeBundle({
        name: `hostile-${name}`,
        args: ['sh', '-c', `grep -c " ${hostDir}/rel " /proc/self/mountinfo; grep -c " ${hostDir}/abs " /proc/self/mountinfo`],
        edit(c, b) {
          c.root.readonly = false;
          // /rel -> ../../../../..<hostDir>/rel (climbs out), /abs -> <hostDir>/abs (an absolute host
          // path): a tmpfs is mounted on each; both must land inside the rootfs
          symlinkSync(`../../../../../../../..${hostDir}/rel`, join(b.rootfs, 'rel'));
          symlinkSync(`${hostDir}/abs`, join(b.rootfs, 'abs'));
          c.mounts.push({ destination: '/rel', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          c.mounts.push({ destination: '/abs', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        },
      });
      bundles.push(bundle);
      const rt = runtime(name);
      const id = newId(`hostile-${name}`);
      t.after(() => rt.forceDelete(id));
      const r = await rt.run(id, { bundle: bundle.dir });
      assert.equal(r.code, 0, show(r));
      assert.ok(!existsSync(hostDir), `${hostDir} was created on the host`);
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(hostDir), 'a mount reached the host');
      // inside, both tmpfs are mounted where the links lead within the rootfs
      assert.deepEqual(r.stdout.trim().split('\n'), ['1', '1'], r.stdout);
      assert.ok(existsSync(join(bundle.rootfs, hostDir, 'rel')) && existsSync(join(bundle.rootfs, hostDir, 'abs')), 'the targets were made inside the rootfs');
    });
  }
});
