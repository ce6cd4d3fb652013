import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RuntimeError } from '@runts/core';
import { compileCreate, type CompileCreateOptions } from './create.ts';
import { CLONE, MOUNT_ATTR, MS } from './constants.ts';
import { ExecFlags, MountFlags, Op, type SourcedStep, type Step } from './program.ts';
import { RUNC_SPEC_PROGRAM } from './runc-spec.snapshot.test-helper.ts';
import { show, showAll, withFields } from './show.test-helper.ts';
import { fakeFs, type FakeFsOptions } from './testing.ts';
import type { InitSpec } from './types.ts';

const runcSpec = (): InitSpec => JSON.parse(readFileSync(new URL('./runc-spec.fixture.json', import.meta.url), 'utf8'));

const baseFs: FakeFsOptions = {
  files: {
    '/b/rootfs/dev': { type: 'dir', perm: 0o755 },
    '/b/rootfs/etc/passwd': { type: 'file', content: 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n' },
    '/proc/kcore': { type: 'file' },
  },
  hostFiles: { '/proc/sys/kernel/cap_last_cap': '40\n' },
};

function compile(spec: InitSpec, extra: Partial<CompileCreateOptions> = {}, fsOpts: FakeFsOptions = baseFs): SourcedStep[] {
  return compileCreate({
    id: 'c1',
    bundle: '/b',
    spec,
    fifoPath: '/run/runts/c1/exec.fifo',
    cgroup: { unified: true, v1: [] },
    fs: fakeFs(fsOpts),
    rootless: false,
    ...extra,
  });
}

/** A minimal valid spec: mount namespace, no terminal. */
function minimal(over: Partial<InitSpec> = {}): InitSpec {
  return {
    ociVersion: '1.0.2',
    root: { path: 'rootfs' },
    process: { args: ['/bin/true'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }] },
    ...over,
  };
}

function withLinux(l: NonNullable<InitSpec['linux']>, over: Partial<InitSpec> = {}): InitSpec {
  return minimal({ ...over, linux: { namespaces: [{ type: 'mount' }], ...l } });
}

const ops = (steps: SourcedStep[]) => steps.map((s) => s.step.op);
const find = <O extends Step['op']>(steps: SourcedStep[], op: O) => steps.filter((s) => s.step.op === op) as Array<SourcedStep & { step: Extract<Step, { op: O }> }>;
const mountsOf = (steps: SourcedStep[], field: string) => steps.filter((s) => s.field === field).map((s) => show(s.step));

function throwsField(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RuntimeError, `not a RuntimeError: ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, re);
    return true;
  });
}

describe('compileCreate: the default `runc spec` config', () => {
  const steps = compile(runcSpec(), { consoleSocket: '/tmp/cs.sock' });

  it('matches the snapshot, step by step', () => {
    assert.deepEqual(withFields(steps), RUNC_SPEC_PROGRAM);
  });

  it('stage 0: Config, NsNew with pid|net|ipc|uts|mnt, Fifo, ConsoleSocket', () => {
    assert.deepEqual(ops(steps).slice(0, 4), [Op.Config, Op.NsNew, Op.Fifo, Op.ConsoleSocket]);
    const ns = find(steps, Op.NsNew)[0]!.step.flags;
    assert.equal(ns, CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
    assert.equal(find(steps, Op.Config)[0]!.step.flags, 0n);
  });

  it('prepares the root like runc: / rslave, rbind of the rootfs onto itself, then the mounts', () => {
    const i = ops(steps).indexOf(Op.Rootfs);
    const [prop, bind] = [steps[i - 2]!.step, steps[i - 1]!.step];
    assert.ok(prop.op === Op.Mount && bind.op === Op.Mount);
    assert.equal(prop.target, '/');
    assert.equal(prop.propagation, MS.SLAVE | MS.REC);
    assert.equal(prop.mflags, MountFlags.TargetHost | MountFlags.NoMount);
    assert.equal(bind.flags, MS.BIND | MS.REC);
    assert.equal(bind.source, '/b/rootfs');
    assert.equal(bind.target, '/b/rootfs');
    assert.equal(bind.mflags, MountFlags.TargetHost);
  });

  it('mounts in order with runc flags', () => {
    const m = find(steps, Op.Mount).filter((s) => s.field.startsWith('mounts['));
    assert.deepEqual(
      m.map((s) => s.label),
      ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'],
    );
    assert.equal(m[1]!.step.flags, MS.NOSUID | MS.STRICTATIME);
    assert.equal(m[2]!.step.data, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
    assert.equal(m[5]!.step.flags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY);
    assert.equal(m[6]!.step.fstype, 'cgroup2');
    assert.equal(m[6]!.step.flags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY);
  });

  it('/dev: default devices, ptmx and fd symlinks, before pivot_root', () => {
    const nodes = find(steps, Op.Mknod).map((s) => s.step.path);
    assert.deepEqual(nodes, ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom']);
    const links = find(steps, Op.Symlink).map((s) => `${s.step.path}->${s.step.target}`);
    assert.deepEqual(links, ['/dev/ptmx->pts/ptmx', '/dev/fd->/proc/self/fd', '/dev/stdin->/proc/self/fd/0', '/dev/stdout->/proc/self/fd/1', '/dev/stderr->/proc/self/fd/2', '/dev/core->/proc/kcore']);
    assert.ok(ops(steps).lastIndexOf(Op.Symlink) < ops(steps).indexOf(Op.PivotRoot));
  });

  it('after pivot_root: console, read-only root, hostname, read-only paths, then masked paths', () => {
    const o = ops(steps);
    const p = o.indexOf(Op.PivotRoot);
    const ro = steps.findIndex((s) => s.field === 'root.readonly');
    assert.ok(p < o.indexOf(Op.Console) && o.indexOf(Op.Console) < ro);
    assert.ok(ro < o.indexOf(Op.Hostname));
    assert.ok(o.indexOf(Op.Hostname) < o.indexOf(Op.ReadonlyAt));
    assert.ok(o.lastIndexOf(Op.ReadonlyAt) < o.indexOf(Op.MaskAt));
    const r = steps[ro]!.step;
    assert.ok(r.op === Op.Mount);
    assert.equal(r.remountFlags, MS.BIND | MS.REMOUNT | MS.RDONLY);
    assert.equal(r.mflags & MountFlags.NoMount, MountFlags.NoMount);
  });

  it('the process: no_new_privs, rlimits, chdir, bounding, user, caps, umask, resolve, wait, exec', () => {
    const tail = ops(steps).slice(ops(steps).indexOf(Op.NoNewPrivs));
    assert.deepEqual(tail, [Op.NoNewPrivs, Op.Rlimit, Op.Chdir, Op.CapsBounding, Op.User, Op.Caps, Op.Umask, Op.Resolve, Op.WaitStart, Op.Launch, Op.Exec]);
    const caps = (1n << 29n) | (1n << 5n) | (1n << 10n); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
    assert.equal(find(steps, Op.CapsBounding)[0]!.step.bounding, caps);
    // ambient capabilities that are not also permitted and inheritable cannot be raised: dropped
    assert.deepEqual(find(steps, Op.Caps)[0]!.step, { op: Op.Caps, effective: caps, permitted: caps, inheritable: 0n, ambient: 0n });
    assert.deepEqual(find(steps, Op.Rlimit)[0]!.step, { op: Op.Rlimit, resource: 7n, soft: 1024n, hard: 1024n });
    const exec = find(steps, Op.Exec)[0]!;
    assert.equal(exec.field, 'process.args');
    assert.deepEqual(exec.step.env.at(-1), 'HOME=/root');
  });

  it('Exec is last, Launch and WaitStart right before it', () => {
    assert.equal(steps.at(-1)!.step.op, Op.Exec);
    assert.equal(steps.at(-2)!.step.op, Op.Launch);
    assert.equal(steps.at(-3)!.step.op, Op.WaitStart);
  });
});

describe('compileCreate: stage 0', () => {
  it('joins namespaces with a path in runc order (user first) and clones the rest', () => {
    const steps = compile(
      withLinux({
        namespaces: [
          { type: 'network', path: '/var/run/netns/a' },
          { type: 'mount' },
          { type: 'user', path: '/proc/9/ns/user' },
          { type: 'pid', path: '/proc/9/ns/pid' },
          { type: 'ipc' },
        ],
      }),
    );
    const joins = find(steps, Op.NsJoin);
    assert.deepEqual(
      joins.map((s) => [s.step.nstype, s.step.path, s.field]),
      [
        [CLONE.NEWUSER, '/proc/9/ns/user', 'linux.namespaces[2]'],
        [CLONE.NEWNET, '/var/run/netns/a', 'linux.namespaces[0]'],
        [CLONE.NEWPID, '/proc/9/ns/pid', 'linux.namespaces[3]'],
      ],
    );
    assert.equal(find(steps, Op.NsNew)[0]!.step.flags, CLONE.NEWNS | CLONE.NEWIPC);
    assert.ok(!ops(steps).includes(Op.UidMap));
    // a joined user namespace: become its root too (nsexec's setuid(0)/setgid(0))
    assert.deepEqual(find(steps, Op.BecomeRoot).map((s) => [s.field, s.step.gid]), [['linux.namespaces[2]', (1n << 64n) - 1n], ['linux.namespaces[2]', 0n]]);
    assert.ok(!ops(compile(minimal())).includes(Op.BecomeRoot));
  });

  it('Wait flag in run mode; no Fifo without a fifo path', () => {
    const steps = compile(minimal(), { wait: true, fifoPath: undefined });
    assert.equal(find(steps, Op.Config)[0]!.step.flags, ExecFlags.Wait);
    assert.ok(!ops(steps).includes(Op.Fifo));
    assert.ok(ops(steps).includes(Op.WaitStart));
  });

  it('a new user namespace: maps, BecomeRoot, and setgroups left alone when privileged', () => {
    const spec = withLinux({
      namespaces: [{ type: 'user' }, { type: 'mount' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [
        { containerID: 0, hostID: 100000, size: 1000 },
        { containerID: 1000, hostID: 2000, size: 1 },
      ],
    });
    const steps = compile(spec);
    // only the user namespace is cloned; the mount namespace is made by the init once it is root
    assert.deepEqual(showAll(steps).slice(0, 5), ['Config 0x0', 'NsNew 0x10000000', 'UidMap "0 100000 65536\\n"', 'GidMap "0 100000 1000\\n1000 2000 1\\n"', 'Fifo /run/runts/c1/exec.fifo']);
    const br = steps.findIndex((s) => s.step.op === Op.BecomeRoot);
    assert.ok(br >= 0 && br < ops(steps).indexOf(Op.Setsid));
    const un = find(steps, Op.Unshare);
    assert.equal(un.length, 1);
    assert.equal(un[0]!.step.flags, 0x20000n, 'CLONE_NEWNS, after BecomeRoot');
    assert.equal(ops(steps).indexOf(Op.Unshare), br + 1);
    assert.equal(find(steps, Op.User)[0]!.step.setgroups, 1n);
  });

  it('rootless: setgroups deny before gid_map, no setgroups(2), no additional gids', () => {
    const spec = withLinux({
      namespaces: [{ type: 'user' }, { type: 'mount' }],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    });
    const steps = compile(spec, { rootless: true, ids: { uid: 1000, gid: 1000 } });
    assert.deepEqual(ops(steps).slice(2, 5), [Op.UidMap, Op.Setgroups, Op.GidMap]);
    assert.equal(find(steps, Op.Setgroups)[0]!.step.value, 'deny');
    assert.equal(find(steps, Op.User)[0]!.step.setgroups, 0n);
    const withGroups = structuredClone(spec);
    withGroups.process!.user!.additionalGids = [5];
    throwsField(() => compile(withGroups, { rootless: true, ids: { uid: 1000, gid: 1000 } }), /^process\.user\.additionalGids: cannot set any additional groups in a rootless container$/);
  });

  it('rootless multi-range maps: newuidmap/newgidmap after the map steps, setgroups left allowed; missing tools name the field', () => {
    const spec = withLinux({
      namespaces: [{ type: 'user' }, { type: 'mount' }],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    });
    const tools = { newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' };
    const steps = compile(spec, { rootless: true, ids: { uid: 1000, gid: 1000 }, mapTools: tools });
    assert.deepEqual(ops(steps).slice(2, 6), [Op.UidMap, Op.UidMapTool, Op.Setgroups, Op.GidMap]);
    assert.equal(find(steps, Op.UidMapTool)[0]!.step.path, '/usr/bin/newuidmap');
    const both = structuredClone(spec);
    both.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];
    assert.deepEqual(ops(compile(both, { rootless: true, ids: { uid: 1000, gid: 1000 }, mapTools: tools })).slice(2, 6), [Op.UidMap, Op.UidMapTool, Op.GidMap, Op.GidMapTool]);
    // as root nothing needs the tools
    assert.equal(find(compile(both, { rootless: false, mapTools: tools }), Op.UidMapTool).length, 0);
    throwsField(() => compile(both, { rootless: true, ids: { uid: 1000, gid: 1000 }, mapTools: {} }), /^linux\.uidMappings: mapping more than the user's own uid needs newuidmap \(Debian package uidmap\), not found in \$PATH$/);
  });

  it('user namespace validation', () => {
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'user' }, { type: 'mount' }] })), /^linux\.uidMappings: user namespaces enabled, but no uid mappings found$/);
    throwsField(() => compile(withLinux({ uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] })), /^linux\.uidMappings: .*not using user namespaces/);
    const unmapped = withLinux(
      { namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
      { process: { args: ['/bin/true'], cwd: '/', user: { uid: 1, gid: 0 } } },
    );
    throwsField(() => compile(unmapped), /^process\.user\.uid: cannot set uid to unmapped user in user namespace$/);
  });

  it('time namespace offsets', () => {
    const steps = compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'time' }], timeOffsets: { monotonic: { secs: 86400, nanosecs: 5 }, boottime: { secs: -10 } } }));
    assert.equal(find(steps, Op.NsNew)[0]!.step.flags, CLONE.NEWNS | CLONE.NEWTIME);
    assert.equal(find(steps, Op.TimeOffsets)[0]!.step.content, 'monotonic 86400 5\nboottime -10 0\n');
    throwsField(() => compile(withLinux({ timeOffsets: { monotonic: { secs: 1 } } })), /^linux\.timeOffsets: /);
  });

  it('namespace validation', () => {
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'mount' }] })), /^linux\.namespaces\[1\]: duplicate namespace "mount"$/);
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'bogus' }] })), /^linux\.namespaces\[1\]\.type: unknown namespace type "bogus"$/);
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'net', path: 'x' }] })), /^linux\.namespaces\[1\]\.type/);
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'network', path: 'x' }] })), /^linux\.namespaces\[1\]\.path: must be an absolute path/);
  });

  it("no mount namespace: the runtime's is used (config-linux.md), nothing changed on its root, chroot instead of pivot_root", () => {
    throwsField(() => compile(withLinux({ namespaces: [], maskedPaths: ['/proc/kcore'] })), /^linux\.maskedPaths: unable to restrict sys entries without a private MNT namespace$/);
    throwsField(() => compile(withLinux({ namespaces: [], readonlyPaths: ['/proc/sys'] })), /^linux\.readonlyPaths: unable to restrict sys entries without a private MNT namespace$/);
    const steps = compile(withLinux({ namespaces: [] }));
    assert.equal(find(steps, Op.NsNew)[0]!.step.flags & CLONE.NEWNS, 0n);
    assert.deepEqual(find(steps, Op.Mount).filter((s) => s.field === 'linux.rootfsPropagation' || s.field === 'root.path'), []);
    assert.equal(find(steps, Op.PivotRoot)[0]!.step.mode, 2n);
    // --no-pivot without a mount namespace must never move the rootfs onto the host's "/"
    const np = compile(withLinux({ namespaces: [] }), { noPivot: true });
    assert.equal(find(np, Op.PivotRoot)[0]!.step.mode, 2n);
    assert.deepEqual(find(np, Op.DetachMount), []);
  });

  it('console socket and terminal go together', () => {
    throwsField(
      () => compile(minimal({ process: { args: ['sh'], cwd: '/', terminal: true } })),
      /^process\.terminal: cannot allocate tty if runts will detach without setting console socket$/,
    );
    throwsField(
      () => compile(minimal({ process: { args: ['sh'], cwd: '/', terminal: true } }), { wait: false }),
      /^process\.terminal: cannot allocate tty if runts will detach without setting console socket$/,
    );
    throwsField(() => compile(minimal(), { consoleSocket: '/s' }), /^process\.terminal: cannot use console socket/);
    const steps = compile(minimal({ process: { args: ['sh'], cwd: '/', terminal: true, consoleSize: { height: 40, width: 120 } } }), { consoleSocket: '/s' });
    assert.deepEqual(find(steps, Op.Console)[0]!.step, { op: Op.Console, rows: 40n, cols: 120n, flags: 1n });
    assert.equal(find(steps, Op.ConsoleSocket)[0]!.step.path, '/s');
    assert.deepEqual(steps[0]!.step, { op: Op.Config, flags: 0n });
    // run in the foreground with a console socket: the socket gets the master, no relay
    const run = compile(minimal({ process: { args: ['sh'], cwd: '/', terminal: true } }), { consoleSocket: '/s', wait: true });
    assert.deepEqual(run[0]!.step, { op: Op.Config, flags: ExecFlags.Wait });
  });

  it('a terminal without a console socket in the foreground (run): stage 0 relays it', () => {
    const steps = compile(minimal({ process: { args: ['sh'], cwd: '/', terminal: true, consoleSize: { height: 40, width: 120 } } }), { wait: true });
    assert.deepEqual(steps[0]!.step, { op: Op.Config, flags: ExecFlags.Wait | ExecFlags.ConsoleRelay });
    assert.equal(find(steps, Op.ConsoleSocket).length, 0);
    assert.deepEqual(find(steps, Op.Console)[0]!.step, { op: Op.Console, rows: 40n, cols: 120n, flags: 1n });
    // no terminal: no relay
    assert.deepEqual(compile(minimal(), { wait: true })[0]!.step, { op: Op.Config, flags: ExecFlags.Wait });
  });

  it('a new network namespace gets its loopback up (runc); a joined one or none is left alone', () => {
    assert.equal(find(compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'network' }] })), Op.LoopbackUp).length, 1);
    assert.equal(find(compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }] })), Op.LoopbackUp).length, 0);
    assert.equal(find(compile(withLinux({ namespaces: [{ type: 'mount' }] })), Op.LoopbackUp).length, 0);
  });

  it('rejects linux.intelRdt and warns about process.execCPUAffinity, naming the fields', () => {
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'mount' }], intelRdt: { closID: 'x' } } as never)), /^linux\.intelRdt: intelRdt is specified in config/);
    const warnings: string[] = [];
    const spec = minimal();
    (spec.process as Record<string, unknown>).execCPUAffinity = { initial: '0' };
    compile(spec, { warn: (m: string) => warnings.push(m) });
    assert.ok(warnings.some((w) => w.startsWith('process.execCPUAffinity: not applied')));
  });

  it('rejects what the executor cannot do', () => {
    throwsField(() => compile(withLinux({ netDevices: { eth0: {} } })), /^linux\.netDevices: /);
    throwsField(() => compile(withLinux({ memoryPolicy: { mode: 'MPOL_BIND' } })), /^linux\.memoryPolicy: not supported$/);
    throwsField(() => compile(withLinux({ mountLabel: 'system_u:object_r:x:s0' })), /^linux\.mountLabel: /);
    const warnings: string[] = [];
    compile(minimal({ process: { args: ['x'], cwd: '/', apparmorProfile: 'docker-default' } }), { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, ['apparmor profile "docker-default" ignored: apparmor is not supported']);
  });

  it('noPivot, noNewKeyring, preserveFds', () => {
    const steps = compile(minimal(), { noPivot: true, noNewKeyring: true, preserveFds: 2 });
    assert.equal(find(steps, Op.PivotRoot)[0]!.step.mode, 1n);
    assert.ok(!ops(steps).includes(Op.SessionKeyring));
    assert.equal(find(steps, Op.Exec)[0]!.step.preserveFds, 2n);
    assert.equal(find(compile(minimal()), Op.SessionKeyring)[0]!.step.name, '_ses.c1');
  });
});

describe('compileCreate: mounts', () => {
  const fsWith: FakeFsOptions = {
    ...baseFs,
    files: {
      ...baseFs.files,
      '/data': { type: 'dir' },
      '/etc/resolv.conf': { type: 'file' },
      '/b/vol': { type: 'dir' },
      '/b/rootfs/tmp': { type: 'dir', perm: 0o1777 },
    },
  };
  const one = (m: NonNullable<InitSpec['mounts']>[number], extra: Partial<CompileCreateOptions> = {}) => mountsOf(compile(minimal({ mounts: [m] }), extra, fsWith), 'mounts[0]');

  it('bind mounts: MkdirTarget for a directory source, MkfileTarget for a file', () => {
    assert.deepEqual(one({ destination: '/data', source: '/data', options: ['rbind'] }), ['Mount /data /data bind BIND|REC [MkdirTarget|NotProc]']);
    assert.deepEqual(one({ destination: '/etc/resolv.conf', source: '/etc/resolv.conf', options: ['bind'] }), ['Mount /etc/resolv.conf /etc/resolv.conf bind BIND [MkfileTarget|NotProc]']);
  });

  it('a bind with flags beyond MS_BIND|MS_REC is remounted (runc), keeping locked flags', () => {
    const steps = compile(minimal({ mounts: [{ destination: '/data', source: '/data', type: 'none', options: ['rbind', 'ro', 'nosuid', 'rprivate'] }] }), {}, fsWith);
    const m = find(steps, Op.Mount).find((s) => s.field === 'mounts[0]')!.step;
    assert.equal(m.flags, MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID);
    assert.equal(m.remountFlags, MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID | MS.REMOUNT);
    assert.equal(m.propagation, MS.PRIVATE | MS.REC);
    assert.equal(m.mflags, MountFlags.MkdirTarget | MountFlags.KeepLocked | MountFlags.NotProc);
    assert.equal(m.fstype, 'bind');
  });

  it('relative destinations are relative to "/", relative bind sources to the bundle', () => {
    assert.deepEqual(one({ destination: 'mnt/vol/', source: 'vol', options: ['bind'] }), ['Mount /b/vol /mnt/vol bind BIND [MkdirTarget|NotProc]']);
  });

  it('type "bind" without the option is still a bind', () => {
    assert.deepEqual(one({ destination: '/data', source: '/data', type: 'bind' }), ['Mount /data /data bind BIND [MkdirTarget|NotProc]']);
  });

  it('recursive attributes go to mount_setattr with AttrRecursive', () => {
    const steps = compile(minimal({ mounts: [{ destination: '/data', source: '/data', options: ['rbind', 'rro', 'rnosuid', 'rnoatime', 'rexec'] }] }), {}, fsWith);
    const m = find(steps, Op.Mount).find((s) => s.field === 'mounts[0]')!.step;
    assert.equal(m.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOATIME);
    assert.equal(m.attrClr, MOUNT_ATTR._ATIME | MOUNT_ATTR.NOEXEC);
    assert.equal(m.mflags & MountFlags.AttrRecursive, MountFlags.AttrRecursive);
    assert.equal(m.remountFlags, 0n, 'rro alone needs no remount');
  });

  it('the option table: set and clear flags, unknown options become data', () => {
    const steps = compile(
      minimal({
        mounts: [
          {
            destination: '/x',
            type: 'ext4',
            source: '/dev/sda1',
            options: ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'noexec', 'sync', 'dirsync', 'mand', 'noatime', 'nodiratime', 'relatime', 'strictatime', 'defaults', 'errors=remount-ro', 'nosymfollow', 'lazytime', 'iversion', 'silent'],
          },
        ],
      }),
    );
    const m = find(steps, Op.Mount).find((s) => s.field === 'mounts[0]')!.step;
    assert.equal(
      m.flags,
      MS.NODEV | MS.NOEXEC | MS.SYNCHRONOUS | MS.DIRSYNC | MS.MANDLOCK | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW | MS.LAZYTIME | MS.I_VERSION | MS.SILENT,
    );
    assert.equal(m.data, 'errors=remount-ro');
    assert.equal(m.mflags, MountFlags.MkdirTarget | MountFlags.NotProc);
  });

  it('several propagation options: the first in the mount, the others as extra steps', () => {
    const lines = one({ destination: '/data', source: '/data', options: ['bind', 'shared', 'runbindable'] });
    assert.deepEqual(lines, ['Mount /data /data bind BIND [MkdirTarget|NotProc] prop=SHARED', 'Mount - /data - 0 [NoMount] prop=REC|UNBINDABLE']);
  });

  it('tmpfs: the executor keeps the mode of an existing directory (KeepMode); a read-only tmpfs is remounted after pivot_root', () => {
    const steps = compile(minimal({ mounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'size=1m'] }] }), {}, fsWith);
    const lines = mountsOf(steps, 'mounts[0]');
    assert.deepEqual(lines, ['Mount tmpfs /tmp tmpfs 0 data=size=1m [MkdirTarget|KeepMode]', 'Mount - /tmp - 0 [KeepLocked|NoMount] remount=RDONLY|REMOUNT|BIND']);
    // the user's data is passed as given; runc 1.1's chmod of an existing mount point is done at mount time
    const m2 = compile(minimal({ mounts: [{ destination: '/tmp', type: 'tmpfs', options: ['mode=1770', 'uid=1000'] }] }), {}, fsWith);
    const s2 = find(m2, Op.Mount).find((s) => s.field === 'mounts[0]')!.step;
    assert.equal(s2.data, 'mode=1770,uid=1000');
    assert.equal(s2.mflags & MountFlags.KeepMode, MountFlags.KeepMode);
    const idx = steps.map((s, i) => (s.field === 'mounts[0]' ? i : -1)).filter((i) => i >= 0);
    const pivot = ops(steps).indexOf(Op.PivotRoot);
    assert.ok(idx[0]! < pivot && idx[1]! > pivot);
  });

  it('only tmpfs mounts keep the mode of the directory they cover', () => {
    const steps = compile(
      minimal({
        mounts: [
          { destination: '/sys', type: 'sysfs', source: 'sysfs' },
          { destination: '/sys/fs/cgroup', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/srv', source: '/b/vol', options: ['rbind'] },
        ],
      }),
      {},
      fsWith,
    );
    const mf = (i: number) => find(steps, Op.Mount).find((s) => s.field === `mounts[${i}]`)!.step.mflags & MountFlags.KeepMode;
    assert.deepEqual([mf(0), mf(1), mf(2)], [0n, MountFlags.KeepMode, 0n]);
  });

  it('/proc is protected (runc checkProcMount)', () => {
    throwsField(() => compile(minimal({ mounts: [{ destination: '/proc/sys', source: '/data', options: ['bind'] }] }), {}, fsWith), /^mounts\[0\]: "\/proc\/sys" cannot be mounted because it is inside \/proc$/);
    throwsField(() => compile(minimal({ mounts: [{ destination: '/proc', source: '/data', options: ['bind'] }] }), {}, fsWith), /^mounts\[0\]: "\/proc" cannot be mounted because it is not of type proc$/);
    assert.doesNotThrow(() => compile(minimal({ mounts: [{ destination: '/proc/meminfo', source: '/data', options: ['bind'] }] }), {}, fsWith));
    assert.doesNotThrow(() => compile(minimal({ mounts: [{ destination: '/proc', source: '/proc', options: ['rbind'] }] }), {}, { ...fsWith, procfs: ['/proc'] }));
  });

  it('procfs and sysfs only on an ordinary directory; a destination leading into /proc is refused (runc)', () => {
    const linked = (target: string): FakeFsOptions => ({ ...fsWith, files: { ...fsWith.files, '/b/rootfs/proc': { type: 'symlink', target } } });
    throwsField(() => compile(minimal({ mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }] }), {}, linked('/tmp')), /^mounts\[0\] \(\/proc\): filesystem "proc" must be mounted on ordinary directory$/);
    const sys: FakeFsOptions = { ...fsWith, files: { ...fsWith.files, '/b/rootfs/sys': { type: 'symlink', target: 'x' } } };
    throwsField(() => compile(minimal({ mounts: [{ destination: '/sys', type: 'sysfs', source: 'sysfs' }] }), {}, sys), /^mounts\[0\] \(\/sys\): filesystem "sysfs" must be mounted on ordinary directory$/);
    const core: FakeFsOptions = { ...fsWith, files: { ...fsWith.files, '/b/rootfs/x': { type: 'symlink', target: '/proc/sys/kernel/core_pattern' } } };
    throwsField(() => compile(minimal({ mounts: [{ destination: '/x', source: '/etc/resolv.conf', options: ['bind'] }] }), {}, core), /^mounts\[0\]: "\/proc\/sys\/kernel\/core_pattern" cannot be mounted because it is inside \/proc$/);
    // the executor checks again at mount time (a rename during create): Ordinary for procfs and
    // sysfs, NotProc for the others, none for the lxcfs files runc allows
    const steps = compile(minimal({ mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/proc/meminfo', source: '/etc/resolv.conf', options: ['bind'] }] }), {}, fsWith);
    const mf = (i: number) => find(steps, Op.Mount).find((s) => s.field === `mounts[${i}]`)!.step.mflags;
    assert.equal(mf(0) & (MountFlags.Ordinary | MountFlags.Anchor), MountFlags.Ordinary | MountFlags.Anchor);
    assert.equal(mf(1) & MountFlags.NotProc, 0n);
  });

  it('masks, read-only paths and sysctls go through the anchored procfs and sysfs, while no later mount covers them', () => {
    const spec = minimal({
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/sys', type: 'sysfs', source: 'sysfs' },
        { destination: '/sys', type: 'tmpfs', source: 'tmpfs' },
      ],
      linux: { namespaces: [{ type: 'mount' }, { type: 'network' }], maskedPaths: ['/proc/kcore', '/sys/firmware', '/other'], readonlyPaths: ['/proc/sys'], sysctl: { 'net.ipv4.ip_forward': '1' } },
    });
    const lines = showAll(compile(spec, {}, fsWith)).filter((l) => /^(Mask|Readonly|WriteProc)/.test(l));
    assert.deepEqual(lines, ['WriteProcAt #0 sys/net/ipv4/ip_forward "1"', 'ReadonlyAt #0 sys', 'MaskAt #0 kcore', 'MaskPath /sys/firmware', 'MaskPath /other']);
  });

  it('tmpcopyup: a tmpfs gets the CopyUp flag (runc EXT_COPYUP); other types ignore it', () => {
    assert.deepEqual(one({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }), ['Mount tmpfs /tmp tmpfs 0 [MkdirTarget|KeepMode|CopyUp]']);
    assert.equal(one({ destination: '/data', source: '/data', options: ['rbind', 'tmpcopyup'] })[0]!.includes('CopyUp'), false);
  });

  it('with a user namespace host bind sources are cloned by stage 0 (OpenTree) and moved in by index', () => {
    const spec = minimal({
      mounts: [{ destination: '/data', source: '/data', options: ['rbind'] }, { destination: '/missing', source: '/nope', options: ['bind'] }, { destination: '/r', source: '/etc/resolv.conf', options: ['bind', 'ro'] }],
      linux: { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
    });
    const steps = compile(spec, {}, fsWith);
    assert.deepEqual(ops(steps).slice(0, 3), [Op.Config, Op.OpenTree, Op.OpenTree]);
    assert.deepEqual(showAll(steps.slice(1, 3)), ['OpenTree /data 1', 'OpenTree /etc/resolv.conf 0']);
    const mountsAt = (f: string) => mountsOf(steps, f).filter((l) => l.startsWith('Mount '));
    assert.deepEqual(mountsAt('mounts[0]'), ['Mount 0 /data bind BIND|REC [MkdirTarget|SourceFd|NotProc]']);
    // a missing source is left to fail at mount time, by path, as before
    assert.deepEqual(mountsAt('mounts[1]'), ['Mount /nope /missing bind BIND [MkdirTarget|NotProc]']);
    assert.match(mountsAt('mounts[2]')[0]!, /^Mount 1 \/r bind RDONLY\|BIND \[MkfileTarget\|KeepLocked\|SourceFd\|NotProc\]/);
    assert.deepEqual(find(compile(minimal({ mounts: [{ destination: '/data', source: '/data', options: ['rbind'] }] }), {}, fsWith), Op.OpenTree), []);
  });

  it('--no-pivot: the runtime\'s full procfs and sysfs mounts outside the rootfs are detached first (runc msMoveRoot)', () => {
    const mountinfo = [
      '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
      '23 22 0:5 / /proc rw - proc proc rw',
      '24 22 0:6 / /sys rw - sysfs sysfs rw',
      '25 23 0:7 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw',
      '26 22 0:5 /sys /mnt/procsys rw - proc proc rw',
      '27 22 0:5 / /b/rootfs/proc rw - proc proc rw',
    ].join('\n');
    const steps = compile(minimal(), { noPivot: true }, { ...fsWith, mountinfo });
    assert.deepEqual(showAll(steps).filter((l) => l.startsWith('DetachMount') || l.startsWith('PivotRoot')), ['DetachMount /proc', 'DetachMount /sys', 'PivotRoot 1']);
    assert.deepEqual(find(compile(minimal(), {}, { ...fsWith, mountinfo }), Op.DetachMount), []);
  });

  it('rejects what the init program cannot do, naming the field', () => {
    throwsField(() => compile(minimal({ mounts: [{ destination: '/a', type: 'tmpfs' }, { destination: '/x', source: '/data', options: ['rbind', 'idmap'] }] })), /^mounts\[1\]\.options\[1\]: "idmap": idmapped mounts are not supported$/);
    throwsField(
      () => compile(minimal({ mounts: [{ destination: '/x', source: '/data', options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }] })),
      /^mounts\[0\]\.uidMappings: idmapped mounts are not supported$/,
    );
    throwsField(() => compile(minimal({ mounts: [{ destination: '/x', source: 'foo' }] })), /^mounts\[0\]\.type: required/);
    throwsField(() => compile(minimal({ mounts: [{ destination: '/x', type: 'tmpfs', options: ['size=1m', ''] }] })), /^mounts\[0\]\.options\[1\]: empty mount option$/);
    throwsField(() => compile(minimal({ mounts: [{ destination: '', type: 'tmpfs' }] })), /^mounts\[0\]\.destination: must not be empty$/);
  });

  it('a bind of /dev skips the device setup', () => {
    const steps = compile(minimal({ mounts: [{ destination: '/dev', source: '/data', options: ['rbind'] }] }), {}, fsWith);
    assert.ok(!ops(steps).includes(Op.Mknod));
    assert.ok(!ops(steps).includes(Op.Symlink));
  });
});

describe('compileCreate: cgroup mounts', () => {
  const cg = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
  const v1 = [
    { controllers: 'cpu,cpuacct', hostDir: '/sys/fs/cgroup/cpu,cpuacct/runts/c1' },
    { controllers: 'memory', hostDir: '/sys/fs/cgroup/memory/runts/c1' },
    { controllers: 'name=systemd', hostDir: '/sys/fs/cgroup/systemd/runts/c1' },
  ];

  it('cgroup v2 with a user namespace but no cgroup namespace: bind of /sys/fs/cgroup (runc fallback)', () => {
    const spec = withLinux(
      { namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
      { mounts: [cg] },
    );
    assert.deepEqual(mountsOf(compile(spec), 'mounts[0]'), [
      'Mount /sys/fs/cgroup /sys/fs/cgroup bind RDONLY|NOSUID|NODEV|NOEXEC|BIND|RELATIME [MkdirTarget|KeepLocked] remount=RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|RELATIME',
    ]);
    const withNs = withLinux({ ...spec.linux!, namespaces: [{ type: 'user' }, { type: 'mount' }, { type: 'cgroup' }] }, { mounts: [cg] });
    assert.deepEqual(mountsOf(compile(withNs), 'mounts[0]'), ['Mount cgroup /sys/fs/cgroup cgroup2 RDONLY|NOSUID|NODEV|NOEXEC|RELATIME [MkdirTarget]']);
  });

  it('cgroup v1: a tmpfs (left read-write, as runc 1.1), one read-only bind per hierarchy, co-mount symlinks', () => {
    const steps = compile(minimal({ mounts: [cg] }), { cgroup: { unified: false, v1 } });
    assert.deepEqual(mountsOf(steps, 'mounts[0]'), [
      'Mount tmpfs /sys/fs/cgroup tmpfs NOSUID|NODEV|NOEXEC data=mode=755 [MkdirTarget|KeepMode]',
      'Mount /sys/fs/cgroup/cpu,cpuacct/runts/c1 /sys/fs/cgroup/cpu,cpuacct bind RDONLY|NOSUID|NODEV|NOEXEC|BIND|REC|RELATIME [MkdirTarget|KeepLocked] remount=RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|REC|RELATIME',
      'Mount /sys/fs/cgroup/memory/runts/c1 /sys/fs/cgroup/memory bind RDONLY|NOSUID|NODEV|NOEXEC|BIND|REC|RELATIME [MkdirTarget|KeepLocked] remount=RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|REC|RELATIME',
      'Mount /sys/fs/cgroup/systemd/runts/c1 /sys/fs/cgroup/systemd bind RDONLY|NOSUID|NODEV|NOEXEC|BIND|REC|RELATIME [MkdirTarget|KeepLocked] remount=RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|REC|RELATIME',
      'Symlink /sys/fs/cgroup/cpu -> cpu,cpuacct',
      'Symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct',
    ]);
  });

  it('cgroup v1 with a cgroup namespace: real cgroup mounts with the controllers as data', () => {
    const spec = withLinux({ namespaces: [{ type: 'mount' }, { type: 'cgroup' }] }, { mounts: [{ ...cg, options: ['nosuid'] }] });
    assert.deepEqual(mountsOf(compile(spec, { cgroup: { unified: false, v1 } }), 'mounts[0]'), [
      'Mount tmpfs /sys/fs/cgroup tmpfs NOSUID|NODEV|NOEXEC data=mode=755 [MkdirTarget|KeepMode]',
      'Mount cgroup /sys/fs/cgroup/cpu,cpuacct cgroup NOSUID|NODEV|NOEXEC data=cpu,cpuacct [MkdirTarget]',
      'Mount cgroup /sys/fs/cgroup/memory cgroup NOSUID|NODEV|NOEXEC data=memory [MkdirTarget]',
      'Mount systemd /sys/fs/cgroup/systemd cgroup NOSUID|NODEV|NOEXEC data=name=systemd [MkdirTarget]',
      'Symlink /sys/fs/cgroup/cpu -> cpu,cpuacct',
      'Symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct',
    ]);
  });
});

describe('compileCreate: root propagation', () => {
  const mi = (shared: boolean) =>
    `22 1 8:1 / / rw,relatime ${shared ? 'shared:1 ' : ''}- ext4 /dev/sda1 rw\n` + `40 22 8:2 / /b rw,relatime ${shared ? 'shared:7 ' : ''}- ext4 /dev/sda2 rw\n`;

  it('rslave (default) needs nothing more', () => {
    const steps = compile(minimal(), {}, { ...baseFs, mountinfo: mi(true) });
    assert.equal(steps.filter((s) => s.field === 'linux.rootfsPropagation').length, 1);
  });

  it('shared: the parent mount of the rootfs is made private, and "/" shared again after pivot_root', () => {
    const steps = compile(withLinux({ rootfsPropagation: 'shared' }), {}, { ...baseFs, mountinfo: mi(true) });
    assert.deepEqual(
      steps.filter((s) => s.field === 'linux.rootfsPropagation').map((s) => show(s.step)),
      ['Mount - / - 0 [TargetHost|NoMount] prop=SHARED', 'Mount - /b - 0 [TargetHost|NoMount] prop=PRIVATE', 'Mount - / - 0 [NoMount] prop=SHARED'],
    );
    const last = steps.findLastIndex((s) => s.field === 'linux.rootfsPropagation');
    assert.ok(last > ops(steps).indexOf(Op.PivotRoot));
  });

  it('slave (not recursive) under a shared parent: the parent is made private', () => {
    const steps = compile(withLinux({ rootfsPropagation: 'slave' }), {}, { ...baseFs, mountinfo: mi(true) });
    assert.deepEqual(
      steps.filter((s) => s.field === 'linux.rootfsPropagation').map((s) => show(s.step)),
      ['Mount - / - 0 [TargetHost|NoMount] prop=SLAVE', 'Mount - /b - 0 [TargetHost|NoMount] prop=PRIVATE', 'Mount - / - 0 [NoMount] prop=SLAVE'],
    );
    const priv = compile(withLinux({ rootfsPropagation: 'private' }), {}, { ...baseFs, mountinfo: mi(false) });
    assert.deepEqual(
      priv.filter((s) => s.field === 'linux.rootfsPropagation').map((s) => show(s.step)),
      ['Mount - / - 0 [TargetHost|NoMount] prop=PRIVATE'],
    );
  });

  it('unbindable: rslave until every bind is made, then "/" unbindable after the masked paths', () => {
    for (const p of ['unbindable', 'runbindable']) {
      const steps = compile(withLinux({ rootfsPropagation: p, maskedPaths: ['/proc/kcore'] }), {}, { ...baseFs, mountinfo: mi(true) });
      const rp = steps.filter((s) => s.field === 'linux.rootfsPropagation');
      assert.deepEqual(rp.map((s) => show(s.step)), ['Mount - / - 0 [TargetHost|NoMount] prop=REC|SLAVE', `Mount - / - 0 [NoMount] prop=${p === 'runbindable' ? 'REC|' : ''}UNBINDABLE`]);
      assert.ok(steps.indexOf(rp[1]!) > ops(steps).indexOf(Op.MaskPath));
    }
  });

  it('unknown values are rejected', () => {
    throwsField(() => compile(withLinux({ rootfsPropagation: 'weird' })), /^linux\.rootfsPropagation: rootfsPropagation=weird is not supported$/);
  });
});

describe('compileCreate: devices', () => {
  it('a device of the spec replaces the default one; modes, owners, fifo, parents', () => {
    const steps = compile(
      withLinux({
        devices: [
          { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 5, gid: 6 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
          { path: '/dev/disk/sda', type: 'b', major: 8, minor: 0, fileMode: 0o20660 },
          { path: '/run/fifo', type: 'p' },
          { path: '/dev/ptmx', type: 'c', major: 5, minor: 2 },
        ],
      }),
    );
    assert.deepEqual(
      steps.filter((s) => s.step.op === Op.Mknod || s.step.op === Op.Mkdir).filter((s) => s.field.startsWith('linux.devices')).map((s) => `${s.field} ${show(s.step)}`),
      [
        'linux.devices Mkdir /dev 0755',
        'linux.devices Mknod /dev/random 020666 1:8 0:0 /dev/random',
        'linux.devices Mknod /dev/full 020666 1:7 0:0 /dev/full',
        'linux.devices Mknod /dev/tty 020666 5:0 0:0 /dev/tty',
        'linux.devices Mknod /dev/zero 020666 1:5 0:0 /dev/zero',
        'linux.devices Mknod /dev/urandom 020666 1:9 0:0 /dev/urandom',
        'linux.devices[0] Mknod /dev/null 020600 1:3 5:6 /dev/null',
        'linux.devices[1] Mknod /dev/fuse 020666 10:229 0:0 /dev/fuse',
        'linux.devices[2] Mkdir /dev/disk 0755',
        'linux.devices[2] Mknod /dev/disk/sda 060660 8:0 0:0 /dev/disk/sda',
        'linux.devices[3] Mkdir /run 0755',
        'linux.devices[3] Mknod /run/fifo 010666 0:0 0:0 /run/fifo',
      ],
    );
  });

  it('bad devices name the field', () => {
    throwsField(() => compile(withLinux({ devices: [{ path: '/dev/a', type: 'c', major: 1, minor: 1 }, { path: '/dev/x', type: 'z', major: 1, minor: 1 }] })), /^linux\.devices\[1\]\.type: invalid device type "z"$/);
    throwsField(() => compile(withLinux({ devices: [{ path: '/dev/x', type: 'c', minor: 1 }] })), /^linux\.devices\[0\]\.major: required$/);
    throwsField(() => compile(withLinux({ devices: [{ path: '/dev/x', type: 'b', major: -1, minor: 1 }] })), /^linux\.devices\[0\]\.major: /);
  });

  it('no /dev/core when the host has no /proc/kcore', () => {
    const steps = compile(minimal(), {}, { ...baseFs, files: { '/b/rootfs/dev': { type: 'dir' } } });
    assert.ok(!find(steps, Op.Symlink).some((s) => s.step.path === '/dev/core'));
  });
});

describe('compileCreate: hooks', () => {
  const hooks = {
    createContainer: [{ path: '/usr/bin/cc', args: ['cc', '-x'], env: ['A=1'], timeout: 5 }],
    startContainer: [{ path: '/usr/bin/sc' }],
    prestart: [{ path: '/usr/bin/ps' }],
  };

  it('createContainer before pivot_root (after /dev), startContainer after WaitStart before Exec', () => {
    const steps = compile(minimal({ hooks }));
    const o = ops(steps);
    const hs = find(steps, Op.Hook);
    assert.equal(hs.length, 2, 'host-side hooks are not in the program');
    assert.equal(hs[0]!.field, 'hooks.createContainer[0]');
    assert.equal(hs[0]!.label, '/usr/bin/cc');
    assert.deepEqual(hs[0]!.step, { op: Op.Hook, path: '/usr/bin/cc', args: ['cc', '-x'], env: ['A=1'], timeout: 5n });
    const cc = steps.indexOf(hs[0]!);
    assert.ok(cc > o.lastIndexOf(Op.Symlink) && cc < o.indexOf(Op.PivotRoot));
    // runc runs createContainer hooks in the rootfs directory
    const rootfs = steps.find((s) => s.step.op === Op.Rootfs)!.step as { path: string };
    assert.deepEqual(steps[cc - 1]!.step, { op: Op.Chdir, cwd: rootfs.path });
    const plain = ops(compile(minimal({})));
    assert.ok(!plain.slice(0, plain.indexOf(Op.PivotRoot)).includes(Op.Chdir), 'no hooks, no chdir');
    const sc = steps.indexOf(hs[1]!);
    assert.equal(o[sc - 1], Op.WaitStart);
    assert.deepEqual(o.slice(sc + 1), [Op.Launch, Op.Exec]);
    // runc: a startContainer hook without env gets the container process's environment
    assert.deepEqual(hs[1]!.step, { op: Op.Hook, path: '/usr/bin/sc', args: ['/usr/bin/sc'], env: ['PATH=/bin', 'HOME=/root'], timeout: 0n });
  });

  it('hook validation', () => {
    throwsField(() => compile(minimal({ hooks: { poststop: [{ path: 'rel' }] } })), /^hooks\.poststop\[0\]\.path: must be an absolute path/);
    throwsField(() => compile(minimal({ hooks: { createContainer: [{ path: '/x', timeout: 0 }] } })), /^hooks\.createContainer\[0\]\.timeout: must be greater than zero$/);
  });
});

describe('compileCreate: the rest of the config', () => {
  it('hostname and domainname need a uts namespace', () => {
    throwsField(() => compile(minimal({ hostname: 'h' })), /^hostname: unable to set hostname without a private UTS namespace$/);
    const steps = compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'uts', path: '/proc/1/ns/uts' }] }, { hostname: 'h', domainname: 'd' }));
    assert.deepEqual(showAll(steps.filter((s) => s.step.op === Op.Hostname || s.step.op === Op.Domainname)), ['Hostname h', 'Domainname d']);
  });

  it('sysctls: written under /proc/sys, validated like runc', () => {
    const steps = compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'ipc' }], sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100', 'fs.mqueue.msg_max': '10' } }));
    assert.deepEqual(
      find(steps, Op.WriteProc).map((s) => `${s.field} ${show(s.step)}`),
      [
        'linux.sysctl["net.ipv4.ip_forward"] WriteProc /proc/sys/net/ipv4/ip_forward "1"',
        'linux.sysctl["kernel.shmmax"] WriteProc /proc/sys/kernel/shmmax "100"',
        'linux.sysctl["fs.mqueue.msg_max"] WriteProc /proc/sys/fs/mqueue/msg_max "10"',
      ],
    );
    throwsField(() => compile(withLinux({ sysctl: { 'net.ipv4.ip_forward': '1' } })), /^linux\.sysctl\["net\.ipv4\.ip_forward"\]: sysctl "net\.ipv4\.ip_forward" is not allowed in the hosts network namespace$/);
    throwsField(() => compile(withLinux({ sysctl: { 'kernel.shmmax': '1' } })), /hosts ipc namespace/);
    throwsField(() => compile(withLinux({ sysctl: { 'vm.swappiness': '1' } })), /is not in a separate kernel namespace/);
    throwsField(() => compile(withLinux({ namespaces: [{ type: 'mount' }, { type: 'uts' }], sysctl: { 'kernel.hostname': 'x' } })), /conflicts with the OCI "hostname" field/);
  });

  it('oomScoreAdj is written by the init, first', () => {
    const steps = compile(minimal({ process: { args: ['x'], cwd: '/', oomScoreAdj: -500 } }));
    const w = steps.findIndex((s) => s.step.op === Op.WriteProc);
    assert.equal(show(steps[w]!.step), 'WriteProc /proc/self/oom_score_adj "-500"');
    assert.equal(steps[w]!.field, 'process.oomScoreAdj');
    assert.ok(w < ops(steps).indexOf(Op.Setsid));
  });

  it('personality', () => {
    const steps = compile(withLinux({ personality: { domain: 'LINUX32' } }));
    assert.equal(find(steps, Op.Personality)[0]!.step.persona, 8n);
    throwsField(() => compile(withLinux({ personality: { domain: 'BSD' } })), /^linux\.personality\.domain: invalid personality domain "BSD"$/);
  });

  it('seccomp: required when configured; always the last step before Exec, CAP_SYS_ADMIN kept until the execve without no_new_privs', () => {
    const sc = { defaultAction: 'SCMP_ACT_ALLOW' };
    throwsField(() => compile(withLinux({ seccomp: sc })), /^linux\.seccomp: no compiled seccomp filter/);
    const bpf = new Uint8Array(16);
    const hooks = { startContainer: [{ path: '/bin/true' }] };
    const a = compile({ ...withLinux({ seccomp: sc }), hooks }, { seccomp: { bpf } });
    const ao = ops(a);
    assert.deepEqual(ao.slice(-5), [Op.WaitStart, Op.Hook, Op.Launch, Op.Seccomp, Op.Exec]);
    const caps = find(a, Op.Caps)[0]!.step;
    assert.ok((caps.effective & (1n << 21n)) !== 0n && (caps.permitted & (1n << 21n)) !== 0n, 'CAP_SYS_ADMIN kept for the load');
    assert.equal(caps.inheritable & (1n << 21n), 0n);
    assert.equal(caps.ambient & (1n << 21n), 0n);
    const b = compile(withLinux({ seccomp: sc }, { process: { args: ['x'], cwd: '/', noNewPrivileges: true } }), { seccomp: { bpf, flags: 1n } });
    const bo = ops(b);
    assert.deepEqual(bo.slice(-4), [Op.WaitStart, Op.Launch, Op.Seccomp, Op.Exec]);
    assert.equal(find(b, Op.Seccomp)[0]!.step.flags, 1n);
    assert.equal(find(b, Op.Caps)[0]!.step.effective & (1n << 21n), 0n, 'with no_new_privs no capability is added');
    // without a filter the capabilities are the spec's
    assert.equal(find(compile(withLinux({})), Op.Caps)[0]!.step.effective & (1n << 21n), 0n);
  });

  it('a non-root process.user gets its stdio (the pty) before the user changes, as runc', () => {
    const s = compile(withLinux({}, { process: { args: ['x'], cwd: '/', user: { uid: 1000, gid: 1000 } } }));
    const o = ops(s);
    assert.equal(o[o.indexOf(Op.User) - 1], Op.ChownStdio);
    assert.deepEqual(find(s, Op.ChownStdio)[0]!.step, { op: Op.ChownStdio, uid: 1000n });
    assert.ok(!ops(compile(withLinux({}))).includes(Op.ChownStdio), 'root: nothing to chown');
  });

  it('capabilities: unknown or unavailable ones are ignored with a warning', () => {
    const warnings: string[] = [];
    const steps = compile(
      minimal({ process: { args: ['x'], cwd: '/', capabilities: { bounding: ['CAP_CHOWN', 'CAP_NOPE', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_SYS_ADMIN'] } } }),
      { warn: (m) => warnings.push(m) },
      { ...baseFs, hostFiles: { '/proc/sys/kernel/cap_last_cap': '39' } },
    );
    assert.equal(find(steps, Op.CapsBounding)[0]!.step.bounding, 1n);
    assert.equal(find(steps, Op.Caps)[0]!.step.effective, 1n << 21n);
    assert.deepEqual(warnings, ['ignoring unknown or unavailable capabilities: [CAP_NOPE CAP_CHECKPOINT_RESTORE]']);
    const amb = compile(minimal({ process: { args: ['x'], cwd: '/', capabilities: { permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_CHOWN'] } } }));
    assert.equal(find(amb, Op.Caps)[0]!.step.ambient, 1n << 5n);
    // no capabilities object: everything is dropped, like runc
    const none = compile(minimal());
    assert.equal(find(none, Op.CapsBounding)[0]!.step.bounding, 0n);
    assert.deepEqual(find(none, Op.Caps)[0]!.step, { op: Op.Caps, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n });
  });

  it('rlimits: names, duplicates, uint64 max', () => {
    const r = (rlimits: NonNullable<NonNullable<InitSpec['process']>['rlimits']>) => compile(minimal({ process: { args: ['x'], cwd: '/', rlimits } }));
    const steps = r([{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615n }]);
    assert.deepEqual(find(steps, Op.Rlimit)[0]!.step, { op: Op.Rlimit, resource: 4n, soft: (1n << 64n) - 1n, hard: (1n << 64n) - 1n });
    throwsField(() => r([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), /^process\.rlimits\[1\]\.type: wrong rlimit value: RLIMIT_FOO$/);
    throwsField(() => r([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 }]), /^process\.rlimits\[1\]\.type: duplicate rlimit RLIMIT_NOFILE$/);
    throwsField(() => r([{ type: 'RLIMIT_NOFILE', soft: -1, hard: 1 }]), /^process\.rlimits\[0\]\.soft: /);
  });

  it('user, umask, cwd, env and HOME', () => {
    const steps = compile(
      minimal({
        process: {
          args: ['app', '-v'],
          cwd: '/srv',
          env: ['PATH=/usr/bin', 'A=1', 'PATH=/opt/bin:/usr/bin', 'B=x=y'],
          user: { uid: 33, gid: 33, additionalGids: [4, 27], umask: 0o077 },
        },
      }),
    );
    assert.deepEqual(find(steps, Op.User)[0]!.step, { op: Op.User, uid: 33n, gid: 33n, additionalGids: [4n, 27n], setgroups: 1n });
    assert.equal(find(steps, Op.Umask)[0]!.step.mask, 0o077n);
    assert.equal(find(steps, Op.Chdir)[0]!.step.cwd, '/srv');
    assert.deepEqual(find(steps, Op.Mkdir).at(-1)!.step, { op: Op.Mkdir, path: '/srv', mode: 0o755n });
    assert.deepEqual(find(steps, Op.Resolve)[0]!.step, { op: Op.Resolve, name: 'app', path: '/opt/bin:/usr/bin' });
    assert.deepEqual(find(steps, Op.Exec)[0]!.step.env, ['PATH=/opt/bin:/usr/bin', 'A=1', 'B=x=y', 'HOME=/var/www']);
    assert.deepEqual(find(steps, Op.Exec)[0]!.step.argv, ['app', '-v']);
  });

  it('HOME is "/" without a passwd entry; an explicit HOME is kept', () => {
    const s1 = compile(minimal({ process: { args: ['x'], cwd: '/', user: { uid: 4242, gid: 0 } } }));
    assert.equal(find(s1, Op.Exec)[0]!.step.env.at(-1), 'HOME=/');
    const s2 = compile(minimal({ process: { args: ['x'], cwd: '/', env: ['HOME=/h'] } }));
    assert.deepEqual(find(s2, Op.Exec)[0]!.step.env, ['HOME=/h']);
  });

  it('a passwd symlink pointing out of the rootfs is resolved inside it', () => {
    const fs: FakeFsOptions = {
      files: {
        '/b/rootfs/etc/passwd': { type: 'symlink', target: '/etc/real-passwd' },
        '/b/rootfs/etc/real-passwd': { type: 'file', content: 'root:x:0:0::/inside:/bin/sh\n' },
        '/etc/real-passwd': { type: 'file', content: 'root:x:0:0::/HOST:/bin/sh\n' },
      },
    };
    const steps = compile(minimal(), {}, fs);
    assert.equal(find(steps, Op.Exec)[0]!.step.env.at(-1), 'HOME=/inside');
  });

  it('process validation', () => {
    throwsField(() => compile(minimal({ process: undefined })), /^process: required$/);
    throwsField(() => compile(minimal({ process: { args: [], cwd: '/' } })), /^process\.args: must not be empty$/);
    throwsField(() => compile(minimal({ process: { args: ['x'], cwd: 'rel' } })), /^process\.cwd: cwd must be an absolute path/);
    throwsField(() => compile(minimal({ process: { args: ['x'], cwd: '/', env: ['NOEQUALS'] } })), /^process\.env\[0\]: invalid environment variable: "NOEQUALS"$/);
    throwsField(() => compile(minimal({ process: { args: ['x'], cwd: '/', env: ['=v'] } })), /^process\.env\[0\]: environment variable name can't be empty/);
    throwsField(() => compile(minimal({ process: { args: ['x'], cwd: '/', scheduler: { policy: 'SCHED_FIFO' } } })), /^process\.scheduler: not supported$/);
    throwsField(() => compile(minimal({ root: { path: 'missing' } }), {}, { files: {} }), /^root\.path: \/b\/missing: no such file or directory$/);
  });

  it('masked and read-only paths are made absolute', () => {
    const steps = compile(withLinux({ maskedPaths: ['proc/kcore'], readonlyPaths: ['/proc/sys/'] }));
    assert.deepEqual(showAll(steps.filter((s) => s.step.op === Op.MaskPath || s.step.op === Op.ReadonlyPath)), ['ReadonlyPath /proc/sys', 'MaskPath /proc/kcore']);
  });

  it('every step names the field it came from', () => {
    for (const s of compile(runcSpec(), { consoleSocket: '/s' })) assert.ok(s.field.length > 0);
  });
});
