// Differential: the same bundle run by runc (the reference) and by the runtime under test
// (E2E_RUNTIME; under E2E_RUNTIME=runc this compares runc with itself, which checks that the probe
// is deterministic). What the container sees (lib/probe.sh) must be equal after the documented
// normalisations of lib/probe.mjs; each variant also asserts what the spec says it must see, so
// that the test is not only "the same as runc".
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runtime, makeBundle, runProbe, newId, PROBE_ARGS, PREFIX, TAG } from '../lib/index.mjs';

const ref = runtime('runc');
const subject = runtime();
const label = `runc vs ${subject.name}`;

/** Runs the probe with both runtimes on one bundle; returns [refResult, subjectResult]. */
async function both(bundle, beforeEach) {
  await beforeEach?.();
  const a = await runProbe(ref, bundle, newId('diff-ref'));
  await beforeEach?.();
  const b = await runProbe(subject, bundle, newId(`diff-${subject.name}`));
  return [a, b];
}

/** deepEqual with a readable message: only the differing keys (except `ignore`d ones). */
function assertSame(a, b, ignore = []) {
  const keys = new Set([...Object.keys(a.normalised), ...Object.keys(b.normalised)].filter((k) => !ignore.includes(k)));
  const diff = [];
  for (const k of keys) {
    const x = JSON.stringify(a.normalised[k]);
    const y = JSON.stringify(b.normalised[k]);
    if (x !== y) diff.push(`${k}:\n  runc:           ${x}\n  ${subject.name.padEnd(15)} ${y}`);
  }
  assert.equal(diff.length, 0, `what the container sees differs (${label}):\n${diff.join('\n')}\n--- ${subject.name} raw output:\n${b.raw}`);
}

/**
 * A variant: bundle options, then checks on the subject's normalised probe output.
 * opts.ignoreInDiff: probe keys not compared with runc, only where runc 1.1.5 breaks the spec
 * (each use says why); the check function asserts the spec for them instead.
 */
async function variant(name, { ignoreInDiff = [], ...opts }, check) {
  const bundle = await makeBundle({ name: 'diff', args: PROBE_ARGS, ...opts });
  try {
    const [a, b] = await both(bundle);
    assert.equal(b.normalised.probe, 'done', `the probe did not finish under ${subject.name}:\n${b.raw}`);
    assert.equal(a.normalised.probe, 'done', `the probe did not finish under runc:\n${a.raw}`);
    await check?.(b.normalised, b, bundle);
    assertSame(a, b, ignoreInDiff);
  } finally {
    bundle.cleanup();
  }
}

const probeEnv = (extra) => ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', ...extra];

describe(`differential ${label}`, () => {
  test('runc spec defaults (terminal false)', () =>
    variant('default', {}, (p) => {
      assert.equal(p.uid, '0');
      assert.equal(p.hostname, 'runc');
      assert.equal(p['status.NoNewPrivs'], '1');
      assert.equal(p['status.CapBnd'], '0000000020000420'); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
      // no signal blocked, and none ignored that the runtime's side ignores: not Node's SIGPIPE and
      // SIGXFSZ, not the 32 and 33 that glibc's posix_spawn (runts-spawn) leaves ignored in the
      // executor (runts-init resets them). (busybox sh ignores SIGQUIT itself: runc's shows it too.)
      assert.equal(BigInt(`0x${p['status.SigIgn']}`) & 0x181001000n, 0n, `SigIgn ${p['status.SigIgn']}`);
      assert.equal(p['status.SigBlk'], '0000000000000000');
      assert.equal(p.pid, '1');
      assert.equal(p['pid1.cmdline'], '/bin/sh /probe.sh ');
      assert.equal(p['limit.max_open_files'], '1024 1024');
      assert.equal(p['write./'], 'error Read-only file system');
      assert.equal(p.umask, '0022');
      for (const ns of ['ipc', 'mnt', 'net', 'pid', 'uts']) assert.equal(p[`ns.${ns}`], 'private', ns);
      for (const ns of ['user', 'cgroup']) assert.equal(p[`ns.${ns}`], 'host', ns);
      assert.equal(p['env.HOME'], '/root', 'HOME comes from /etc/passwd when env has none');
      assert.ok(p.mountinfo.includes('/proc/acpi tmpfs ro,relatime ro'), 'masked dir /proc/acpi is a read-only tmpfs');
      assert.equal(p['read./proc/keys'], 'file bytes=0', '/proc/keys is masked');
      assert.ok(p.dev.includes('null crw-rw-rw- 0 0 1,3'));
      assert.ok(p.dev.includes('ptmx lrwxrwxrwx 0 0 -> pts/ptmx'));
      assert.ok(Object.entries(p).filter(([k]) => k.startsWith('cgroup.')).every(([, v]) => v === '<ID>'), 'in a cgroup named after the id');
    }));

  test('hostname and domainname', () =>
    variant('hostname', {
      hostname: 'e2e-host',
      edit: (c) => void (c.domainname = 'e2e.example'),
      // runc 1.1.5 ignores config.md's `domainname` (runc supports it from 1.2): the spec wins.
      ignoreInDiff: ['domainname'],
    }, (p) => {
      assert.equal(p.hostname, 'e2e-host');
      assert.equal(p.domainname, subject.name === 'runc' ? '(none)' : 'e2e.example');
    }));

  test('user 1000:1000 with additionalGids, HOME from /etc/passwd', () =>
    variant('user', { user: { uid: 1000, gid: 1000, additionalGids: [100, 65534] } }, (p) => {
      assert.equal(p.uid, '1000');
      assert.equal(p.gid, '1000');
      assert.deepEqual(p.groups.split(' ').sort(), ['100', '1000', '65534']);
      assert.equal(p['status.Uid'], '1000 1000 1000 1000');
      assert.equal(p['status.CapEff'], '0000000000000000', 'a non-root user loses effective caps');
      assert.equal(p['env.HOME'], '/home/test');
    }));

  test('cwd that does not exist yet (created), writable rootfs', () =>
    variant('cwd', { cwd: '/work/dir', readonly: false }, (p) => {
      assert.equal(p.pwd, '/work/dir');
      assert.equal(p['write./'], 'ok');
      assert.equal(p['write./tmp'], 'ok');
    }));

  test('env replaces the default environment', () =>
    variant('env', { env: probeEnv(['E2E_A=1', 'E2E_SPACES=a b  c', 'E2E_EMPTY=', 'HOME=/custom']) }, (p) => {
      assert.equal(p['env.E2E_A'], '1');
      assert.equal(p['env.E2E_SPACES'], 'a b  c');
      assert.equal(p['env.E2E_EMPTY'], '');
      assert.equal(p['env.HOME'], '/custom');
      assert.equal(Object.keys(p).filter((k) => k.startsWith('env.')).length, 6);
    }));

  test('rlimits', () =>
    variant('rlimits', {
      edit: (c) => {
        c.process.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 512, hard: 2048 },
          { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
          { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
          { type: 'RLIMIT_MEMLOCK', soft: 65536, hard: 65536 },
        ];
      },
    }, (p) => {
      assert.equal(p['limit.max_open_files'], '512 2048');
      assert.equal(p['limit.max_processes'], '300 400');
      assert.equal(p['limit.max_core_file_size'], '0 0');
      assert.equal(p['limit.max_locked_memory'], '65536 65536');
    }));

  test('umask', () =>
    variant('umask', { user: { umask: 0o077 } }, (p) => {
      assert.equal(p.umask, '0077');
    }));

  test('extra tmpfs mount with options', () =>
    variant('tmpfs', {
      mounts: [{ destination: '/mnt/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m', 'uid=1000', 'gid=1000'] }],
      env: probeEnv(['PROBE_LS=/mnt/tmp', 'PROBE_WRITE=/mnt/tmp']),
      // The mount point exists (mode 0750) so that both runs start from the same rootfs.
      edit: (c, b) => mkdirSync(b.path('rootfs/mnt/tmp'), { mode: 0o750 }),
    }, (p) => {
      assert.ok(p.mountinfo.includes('/mnt/tmp tmpfs rw,nosuid,nodev,noexec,relatime rw,size=1024k,mode=1770,uid=1000,gid=1000'), p.mountinfo.join('\n'));
      // runc: after mounting a tmpfs on an existing directory it chmods the mount point to that
      // directory's mode, so mode=1770 shows in mountinfo but the root of the tmpfs is 0750.
      assert.equal(p['ls./mnt/tmp'], 'drwxr-x--- 1000 1000');
      // root without CAP_DAC_OVERRIDE (runc spec's 3 caps) cannot write a 0750 dir owned by 1000
      assert.equal(p['write./mnt/tmp'], 'error Permission denied');
    }));

  test('read-only bind mount of a host directory', async () => {
    const host = join(process.env.E2E_RUN_DIR, `hostdir-${TAG}-${process.pid}`);
    mkdirSync(host, { recursive: true });
    writeFileSync(join(host, 'hello'), 'hello from the host\n');
    try {
      await variant('bind', {
        mounts: [{ destination: '/mnt/ro', type: 'bind', source: host, options: ['rbind', 'ro'] }],
        env: probeEnv(['PROBE_WRITE=/mnt/ro /mnt/ro/hello', 'PROBE_CAT=/mnt/ro/hello']),
      }, (p) => {
        assert.equal(p['cat./mnt/ro/hello'], 'hello from the host ');
        assert.equal(p['write./mnt/ro'], 'error Read-only file system');
        assert.equal(p['write./mnt/ro/hello'], 'error Read-only file system');
        assert.ok(p.mountinfo.some((m) => m.startsWith('/mnt/ro ext4 ro,')), p.mountinfo.join('\n'));
      });
      assert.equal(readFileSync(join(host, 'hello'), 'utf8'), 'hello from the host\n');
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  test('linux.devices', () =>
    variant('devices', {
      edit: (c) => {
        c.linux.devices = [
          { path: '/dev/e2e-null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 100 },
          { path: '/dev/e2e/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
        ];
        c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
      },
      env: probeEnv(['PROBE_LS=/dev/e2e/zero']),
    }, (p) => {
      assert.ok(p.dev.includes('e2e-null crw-r----- 1000 100 1,3'), p.dev.join('\n'));
      assert.equal(p['ls./dev/e2e/zero'], 'crw-rw-rw- 0 0');
    }));

  test('sysctl net.ipv4.ip_forward', () =>
    variant('sysctl', { edit: (c) => void (c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }) }, (p) => {
      assert.equal(p.ip_forward, '1');
    }));

  test('oomScoreAdj', () =>
    variant('oom', { edit: (c) => void (c.process.oomScoreAdj = 500) }, (p) => {
      assert.equal(p.oom_score_adj, '500');
    }));

  test('capabilities reduced', () =>
    variant('caps-reduced', {
      edit: (c) => {
        c.process.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], inheritable: [], ambient: [] };
      },
    }, (p) => {
      assert.equal(p['status.CapBnd'], '0000000000000001');
      assert.equal(p['status.CapEff'], '0000000000000001');
      assert.equal(p['status.CapPrm'], '0000000000000001');
    }));

  test('capabilities extended, ambient for a non-root user', () =>
    variant('caps-extended', {
      user: { uid: 1000, gid: 1000 },
      edit: (c) => {
        const caps = ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_NET_RAW', 'CAP_KILL'];
        c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
      },
    }, (p) => {
      const mask = ((1n << 12n) | (1n << 21n) | (1n << 13n) | (1n << 5n)).toString(16).padStart(16, '0');
      for (const set of ['CapBnd', 'CapEff', 'CapPrm', 'CapInh', 'CapAmb']) assert.equal(p[`status.${set}`], mask, set);
    }));

  test('noNewPrivileges false', () =>
    variant('nnp', { edit: (c) => void (c.process.noNewPrivileges = false) }, (p) => {
      assert.equal(p['status.NoNewPrivs'], '0');
    }));

  test('maskedPaths and readonlyPaths', () =>
    variant('masked', {
      readonly: false,
      edit: (c) => {
        c.linux.maskedPaths = ['/etc/hostname', '/home', '/proc/kcore', '/nonexistent/path'];
        c.linux.readonlyPaths = ['/tmp', '/proc/sys'];
      },
      env: probeEnv(['PROBE_READ=/etc/hostname /home', 'PROBE_WRITE=/home /etc']),
    }, (p) => {
      assert.equal(p['read./etc/hostname'], 'file bytes=0');
      assert.equal(p['read./home'], 'dir entries=0');
      assert.equal(p['write./tmp'], 'error Read-only file system');
      assert.equal(p['write./home'], 'error Read-only file system');
      assert.equal(p['write./etc'], 'ok');
      assert.equal(p['read./proc/keys'], 'file bytes=1'.replace('1', p['read./proc/keys'].split('=')[1]), 'no longer masked');
    }));

  test('user namespace with uid/gid mappings', () =>
    variant('userns', {
      rootfsOwner: '100000:100000',
      edit: (c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
      env: probeEnv(['PROBE_CAT=/proc/self/uid_map /proc/self/gid_map']),
    }, (p) => {
      assert.equal(p['ns.user'], 'private');
      assert.equal(p.uid, '0');
      assert.match(p['cat./proc/self/uid_map'], /^\s*0\s+100000\s+65536\s*$/);
      assert.match(p['cat./proc/self/gid_map'], /^\s*0\s+100000\s+65536\s*$/);
    }));

  test('no network namespace (host network)', () =>
    variant('hostnet', { edit: (c) => void (c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'network')) }, (p) => {
      assert.equal(p['ns.net'], 'host');
    }));

  test('joining a network namespace by path', async (t) => {
    const name = `${PREFIX}${TAG}-net-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    t.after(() => spawnSync('ip', ['netns', 'delete', name]));
    spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    await variant('netns-path', {
      edit: (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${name}` } : n));
      },
    }, (p) => {
      assert.equal(p['ns.net'], `netns:${name}`);
      assert.equal(p.netdevs, 'lo ');
    });
  });

  test('hooks: all six kinds, with the state on stdin', async () => {
    const kinds = ['createRuntime', 'createContainer', 'prestart', 'startContainer', 'poststart', 'poststop'];
    const inContainer = new Set(['startContainer']); // its path and output resolve in the container
    let outDir;
    const hook = (kind) => {
      const dir = inContainer.has(kind) ? '/hooks-out' : outDir;
      return {
        path: '/bin/sh',
        args: ['sh', '-c', `cat > ${dir}/${kind}.json; readlink /proc/self/ns/mnt > ${dir}/${kind}.mntns; echo "$E2E_HOOK $0" > ${dir}/${kind}.env; echo ${kind} >> ${dir}/order`, 'arg0'],
        env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', `E2E_HOOK=${kind}`],
        timeout: 10,
      };
    };
    const bundle = await makeBundle({
      name: 'hooks',
      args: PROBE_ARGS,
      edit: (c, b) => {
        outDir = b.path('hooks-out');
        mkdirSync(outDir, { mode: 0o777 });
        chmodSync(outDir, 0o777);
        c.mounts.push({ destination: '/hooks-out', type: 'bind', source: outDir, options: ['rbind', 'rw'] });
        c.hooks = Object.fromEntries(kinds.map((k) => [k, [hook(k)]]));
      },
    });
    const collect = (probe) => {
      const out = {};
      const mntOf = probe.parsed['ns.mnt'];
      const hostMnt = readFileSync('/proc/self/mountinfo', 'utf8') && spawnSync('readlink', ['/proc/self/ns/mnt'], { encoding: 'utf8' }).stdout.trim();
      for (const k of kinds) {
        const f = join(outDir, `${k}.json`);
        if (!existsSync(f)) {
          out[k] = 'did not run';
          continue;
        }
        const state = JSON.parse(readFileSync(f, 'utf8'));
        if (state.pid > 0) state.pid = '<PID>';
        if (state.id === probe.id) state.id = '<ID>';
        const mnt = readFileSync(join(outDir, `${k}.mntns`), 'utf8').trim();
        out[k] = {
          state,
          env: readFileSync(join(outDir, `${k}.env`), 'utf8').trim(),
          mntns: mnt === hostMnt ? 'host' : mnt === mntOf ? 'container' : `other ${mnt}`,
        };
      }
      out.order = existsSync(join(outDir, 'order')) ? readFileSync(join(outDir, 'order'), 'utf8').trim().split('\n') : [];
      return out;
    };
    const clear = () => {
      for (const f of readdirSync(outDir)) rmSync(join(outDir, f));
    };
    try {
      const results = [];
      for (const rt of [ref, subject]) {
        clear();
        const id = newId(`hooks-${rt.name}`);
        const probe = await runProbe(rt, bundle, id);
        probe.id = id;
        results.push({ probe, hooks: collect(probe) });
      }
      const [a, b] = results;
      // What the spec asks (runtime.md, config.md "POSIX-platform Hooks"):
      // runtime.md "Lifecycle": prestart (config.md: "MUST be called before the createRuntime
      // hooks"), createRuntime, createContainer, startContainer, poststart, poststop.
      const specOrder = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
      // runc breaks the spec here: `runc start` runs poststart as soon as it has opened exec.fifo,
      // racing the init's startContainer hooks (and the exec of the user's process). Only for runc
      // the two may come in either order; runts must follow the spec.
      const allowed = subject.name === 'runc' ? [specOrder, ['prestart', 'createRuntime', 'createContainer', 'poststart', 'startContainer', 'poststop']] : [specOrder];
      assert.ok(allowed.some((o) => JSON.stringify(o) === JSON.stringify(b.hooks.order)), `every hook ran once, in lifecycle order: got ${b.hooks.order.join(', ')}; want ${specOrder.join(', ')}`);
      delete a.hooks.order;
      delete b.hooks.order;
      for (const k of kinds) {
        assert.equal(b.hooks[k].env, `${k} arg0`, `${k}: env and args as given`);
        assert.equal(b.hooks[k].state.id, '<ID>', `${k}: state.id`);
        assert.equal(b.hooks[k].state.bundle, bundle.dir, `${k}: state.bundle`);
        assert.equal(b.hooks[k].mntns, ['createContainer', 'startContainer'].includes(k) ? 'container' : 'host', `${k} runs in the ${['createContainer', 'startContainer'].includes(k) ? 'container' : 'runtime'} namespace`);
      }
      assert.equal(b.hooks.poststop.state.status, 'stopped');
      assert.equal(b.hooks.poststart.state.pid, '<PID>');
      // And the same as runc, field by field. runc 1.1.5 passes ociVersion "1.0.2-dev", status
      // "creating" to prestart/createRuntime/createContainer, "created" to startContainer and
      // poststart, "stopped" to poststop, and its own (host) pid to every hook.
      assert.deepEqual(b.hooks, a.hooks, `hooks differ (${label})`);
      assertSame(a.probe, b.probe);
    } finally {
      bundle.cleanup();
    }
  });
});
