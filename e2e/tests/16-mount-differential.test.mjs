// Mount features compared with runc 1.1.5 on the same bundle: tmpcopyup (Podman's --tmpfs and
// --read-only), a config without a mount namespace, rootfsPropagation "unbindable", and bind
// sources that only the host can open (a 0700 root directory, with a user namespace).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, chmodSync, chownSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, errorText, spawnCapture, RUN_DIR } from '../lib/index.mjs';

const bundles = [];
after(() => {
  for (const b of bundles) b.cleanup();
});

async function bundleFor(name, opts) {
  const b = await makeBundle({ name: `md-${name}`, ...opts });
  bundles.push(b);
  return b;
}

async function runIn(name, bundle) {
  const rt = runtime(name);
  const id = newId(`md-${name}`);
  const r = await rt.run(id, { bundle: bundle.dir }, { timeout: 60_000 });
  await rt.forceDelete(id);
  return r;
}

// what the container sees of /etc/cu: names, modes, owners, types, contents
const LISTING = 'cd /etc/cu && find . | sort | while read f; do echo "$f $(stat -c "%a %u:%g %F" "$f") $( [ -f "$f" ] && cat "$f")"; done; readlink ./link; touch /etc/cu/new && echo writable';

describe('tmpcopyup', () => {
  const out = {};
  for (const name of ['runc', 'runts']) {
    test(`${name}: a tmpfs with tmpcopyup starts with the directory's contents, on a read-only root`, async () => {
      const b = await bundleFor(name, {
        args: ['sh', '-c', LISTING],
        readonly: true,
        edit(c, bb) {
          const d = join(bb.rootfs, 'etc/cu');
          mkdirSync(join(d, 'sub'), { recursive: true });
          writeFileSync(join(d, 'sub/file'), 'data');
          writeFileSync(join(d, 'top'), 'top');
          chownSync(join(d, 'sub/file'), 7, 8);
          chmodSync(join(d, 'sub'), 0o711);
          chmodSync(d, 0o750);
          symlinkSync('../x', join(d, 'link'));
          c.mounts.push({ destination: '/etc/cu', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid', 'size=1m'] });
        },
      });
      const r = await runIn(name, b);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^\.\/sub\/file 644 7:8 regular file data$/m, show(r));
      assert.match(r.stdout, /^writable$/m, show(r));
      out[name] = r.stdout;
    });
  }
  test('runc and runts agree', () => {
    assert.ok(out.runc && out.runts, 'both ran');
    assert.equal(out.runts, out.runc);
  });
});

describe('no mount namespace', () => {
  // the runtime runs in a mount namespace of its own made for the test (a copy of the host's),
  // so that what the container leaves in "the runtime's mount namespace" can be listed and is
  // dropped with it; the container inherits that namespace, as config-linux.md says
  const seen = {};
  for (const name of ['runc', 'runts']) {
    test(`${name}: runs in the runtime's mount namespace, its mounts inside the rootfs`, async () => {
      const b = await bundleFor(name, {
        args: ['sh', '-c', 'ls /proc/self/ns/mnt >/dev/null && echo ok'],
        readonly: false,
        edit(c) {
          c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'mount');
          // runc: "unable to restrict sys entries without a private MNT namespace"
          c.linux.maskedPaths = [];
          c.linux.readonlyPaths = [];
        },
      });
      const rt = runtime(name);
      const id = newId(`md-${name}`);
      const script = `"$@" >/tmp/.out-$$ 2>&1; rc=$?; cat /tmp/.out-$$; rm -f /tmp/.out-$$; echo "rc=$rc"; echo "ns=$(readlink /proc/self/ns/mnt)"; grep -F " ${b.rootfs}" /proc/self/mountinfo | cut -d" " -f5 | sed "s|${b.rootfs}|ROOTFS|" | sort; grep "^[0-9]* [0-9]* [^ ]* / / " /proc/self/mountinfo | cut -d" " -f7`;
      const r = await spawnCapture(['unshare', '-m', '--propagation', 'unchanged', 'sh', '-c', script, 'sh', ...rt.argv('run'), '--bundle', b.dir, id], { timeout: 60_000 });
      await rt.forceDelete(id);
      assert.match(r.stdout, /^rc=0$/m, show(r));
      assert.match(r.stdout, /^ok$/m, show(r));
      const mounts = r.stdout.split('\n').filter((l) => l.startsWith('ROOTFS'));
      seen[name] = mounts;
      // the config's mounts land in the rootfs, where runc puts them
      for (const m of ['ROOTFS/proc', 'ROOTFS/dev', 'ROOTFS/sys']) assert.ok(mounts.includes(m), `${name}: ${m} missing: ${mounts.join(' ')}`);
    });
  }
  test('runts leaves no mount in the runtime\'s namespace that runc does not', (t) => {
    assert.ok(seen.runc && seen.runts, 'both ran');
    t.diagnostic(`runc leaves: ${seen.runc.join(' ')}`);
    t.diagnostic(`runts leaves: ${seen.runts.join(' ')}`);
    const extra = seen.runts.filter((m) => !seen.runc.includes(m));
    assert.deepEqual(extra, [], `runc: ${seen.runc.join(' ')}\nruns: ${seen.runts.join(' ')}`);
  });
});

describe('rootfsPropagation unbindable', () => {
  for (const name of ['runc', 'runts']) {
    test(`${name}: the root is made unbindable once its binds are made`, async (t) => {
      const b = await bundleFor(name, {
        args: ['sh', '-c', 'awk \'$5 == "/"\' /proc/self/mountinfo; wc -c < /proc/timer_list'],
        edit(c) {
          c.linux.rootfsPropagation = 'unbindable';
        },
      });
      const r = await runIn(name, b);
      t.diagnostic(`${name}: exit ${r.code}: ${r.stdout.trim().replaceAll('\n', '; ')} ${errorText(r.stderr)}`);
      if (name === 'runc') {
        // runc 1.1.5 makes "/" unbindable before it binds the rootfs: EINVAL
        assert.notEqual(r.code, 0, show(r));
        assert.match(errorText(r.stderr), /error preparing rootfs: mount .*: invalid argument/, show(r));
        return;
      }
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, / \/ ro,[^ ]* unbindable /, show(r));
      assert.match(r.stdout, /^0$/m, 'the masked paths are masked');
    });
  }
});

describe('a bind source only the host can open, with a user namespace', () => {
  const secret = join(RUN_DIR, `secret-${process.pid}`);
  mkdirSync(join(secret, 'inner'), { recursive: true, mode: 0o700 });
  chmodSync(secret, 0o700);
  after(() => rmSync(secret, { recursive: true, force: true }));
  for (const name of ['runc', 'runts']) {
    test(`${name}: a 0700 root-owned host directory is bind-mounted`, async () => {
      const b = await bundleFor(name, {
        args: ['sh', '-c', 'grep -c " /secret " /proc/self/mountinfo'],
        rootfsOwner: '100000:100000',
        edit(c) {
          c.linux.namespaces.push({ type: 'user' });
          c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          // the source is under the 0700 directory: only the host's root can walk to it
          c.mounts.push({ destination: '/secret', type: 'bind', source: join(secret, 'inner'), options: ['rbind', 'ro'] });
        },
      });
      const r = await runIn(name, b);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), '1', show(r));
    });
  }
});
