// Where the container's cgroup is (issues 8 and 9): the same linux.cgroupsPath under runc and the
// runtime under test puts the init in the same cgroup of every hierarchy (/proc/<pid>/cgroup read
// on the host): absolute, relative (v1: under the caller's own cgroup, which differs per
// controller on this host; the hybrid cgroup2 at its top), the default (the id, relative), and
// paths with `..` that runc's CleanPath keeps inside. What cannot be made safe (the root cgroup,
// the caller's own cgroup) is refused naming linux.cgroupsPath, and nothing is left behind; so is
// --systemd-cgroup where systemd does not run, and a systemd path in the wrong format.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime, makeBundle, newId, show, cgroupsOf, spawnCapture, PREFIX, TAG } from '../lib/index.mjs';

const uut = runtime();
const runc = runtime('runc');
const tag = `${PREFIX}${TAG}-cgp${process.pid % 100000}`;

/** The init's cgroups, with the container's id written as <id>. */
function cgroupsOfPid(pid, id) {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split(id).join('<id>');
}

/** Creates with cgroupsPath under rt, returns the init's /proc/<pid>/cgroup, deletes. */
async function placement(rt, cgroupsPath, extra = {}) {
  const id = newId('cgp');
  const b = await makeBundle({
    args: ['sleep', '100'],
    edit(c) {
      if (cgroupsPath === undefined) delete c.linux.cgroupsPath;
      else c.linux.cgroupsPath = cgroupsPath;
    },
  });
  try {
    const r = await rt.create(id, { bundle: b.dir, ...extra });
    assert.equal(r.code, 0, show(r));
    const st = await rt.stateJson(id);
    const text = cgroupsOfPid(st.pid, id);
    const d = await rt.delete(id, { force: true });
    assert.equal(d.code, 0, show(d));
    return text;
  } finally {
    await rt.forceDelete(id);
    b.cleanup();
  }
}

after(() => {
  // runc (and runts) remove the container's own cgroup, not the parents the path named
  for (const dir of cgroupsOf(tag)) {
    try {
      rmdirSync(dir);
    } catch {
      /* still busy or gone */
    }
  }
});

describe(`cgroupsPath: ${uut.name} puts the container where runc does`, () => {
  const cases = [
    ['absolute', `/${tag}-abs/c`],
    ['absolute climbing above the root', `/../../${tag}-abs2/c`],
    ['relative', `${tag}-rel/c`],
    ['relative climbing above the own cgroup', `../../${tag}-up/c`],
    ['relative with .. inside', `${tag}-in/a/../b`],
    ['a systemd-style path (a plain relative name to cgroupfs)', `system.slice:${tag}:c`],
    ['the default (no cgroupsPath)', undefined],
  ];
  for (const [name, p] of cases) {
    test(name, async () => {
      const theirs = await placement(runc, p);
      const ours = await placement(uut, p);
      assert.equal(ours, theirs, `cgroupsPath ${JSON.stringify(p)}`);
      if (p !== undefined) assert.ok(!ours.includes('..'), ours);
    });
  }

  test('the own cgroup of the caller matters: v1 relative paths land under it, per controller', async () => {
    const self = readFileSync('/proc/self/cgroup', 'utf8');
    const ours = await placement(uut, `${tag}-own/c`);
    for (const line of self.split('\n').filter((l) => /^\d+:[^:]+:/.test(l))) {
      const [n, ctl, own] = line.split(':');
      const want = `${n}:${ctl}:${own === '/' ? '' : own}/${tag}-own/c`;
      assert.ok(ours.split('\n').includes(want), `${want} in\n${ours}`);
    }
  });
});

describe(`cgroupsPath that cannot be made safe: ${uut.name} refuses it`, () => {
  const ownMemory = /^\d+:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const cases = [
    ['/', /linux\.cgroupsPath: "\/" is the root of the cgroup hierarchy \/sys\/fs\/cgroup\/\S+: a container needs a cgroup of its own/],
    ['/..', /linux\.cgroupsPath: "\/\.\." is the root of the cgroup hierarchy/],
    ['.', /linux\.cgroupsPath: "\." (is the root of the cgroup hierarchy|resolves to \S+, which holds the runtime's own cgroup)/],
    ...(ownMemory && ownMemory !== '/' ? [[ownMemory, /which holds the runtime's own cgroup/]] : []),
  ];
  for (const [p, re] of cases) {
    test(JSON.stringify(p), async () => {
      const id = newId('cgbad');
      const b = await makeBundle({ args: ['true'], edit: (c) => void (c.linux.cgroupsPath = p) });
      try {
        const before = cgroupsOf(id);
        const r = await uut.create(id, { bundle: b.dir });
        assert.equal(r.code, 1, show(r));
        assert.match(r.error, re);
        assert.equal((await uut.state(id)).code, 1, 'no container left');
        assert.ok(!existsSync(join(uut.root, id)), 'no state dir');
        assert.deepEqual(cgroupsOf(id), before, 'no cgroup');
      } finally {
        await uut.forceDelete(id);
        b.cleanup();
      }
    });
  }
});

describe('--systemd-cgroup where systemd does not run', { skip: existsSync('/run/systemd/system') ? 'systemd runs here (the guest tests cover the driver)' : false }, () => {
  for (const [name, p, re] of [
    ['slice:prefix:name', `system.slice:${tag}:c`, /--systemd-cgroup: systemd not running on this host, cannot use the systemd cgroup driver/],
    ['a path in the wrong format', '/a/b', /linux\.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/a\/b" instead/],
    ['a bad slice', 'a--b.slice:p:n', /linux\.cgroupsPath: invalid slice name "a--b\.slice"/],
    ['a unit name with a slash', 'system.slice:p:../../x', /linux\.cgroupsPath: invalid systemd unit name "\.\.\/\.\.\/x"/],
  ]) {
    test(`${name}: refused, nothing left (runc refuses too)`, async () => {
      const id = newId('sdbad');
      const b = await makeBundle({ args: ['true'], edit: (c) => void (c.linux.cgroupsPath = p) });
      try {
        // the global flag before the verb, as containerd and Podman pass it: it must not eat the verb
        const withFlag = (rt) => {
          const argv = rt.argv('create');
          const at = argv.indexOf('--root'); // the command itself may be one word (runc, the single executable) or two (node script)
          return [...argv.slice(0, at), '--systemd-cgroup', ...argv.slice(at), '--bundle', b.dir, id];
        };
        const r = await spawnCapture(withFlag(uut));
        assert.equal(r.code, 1, show(r));
        assert.match(r.error, re);
        assert.ok(!existsSync(join(uut.root, id)), 'no state dir');
        assert.deepEqual(cgroupsOf(id), []);
        const theirs = await spawnCapture(withFlag(runc));
        await runc.forceDelete(id);
        assert.equal(theirs.code, 1, show(theirs));
      } finally {
        await uut.forceDelete(id);
        b.cleanup();
      }
    });
  }
});

