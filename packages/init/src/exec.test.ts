import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeError } from '@runts/core';
import { CLONE } from './constants.ts';
import { compileCreate } from './create.ts';
import { compileExec, type CompileExecOptions } from './exec.ts';
import { ExecFlags, Op, type SourcedStep } from './program.ts';
import { showAll, withFields } from './show.test-helper.ts';
import { fakeFs } from './testing.ts';
import type { InitProcess, InitSpec } from './types.ts';

const fs = fakeFs({
  files: {
    '/proc/42/root/etc/passwd': { type: 'file', content: 'root:x:0:0::/root:/bin/sh\n' },
    '/b/rootfs/etc/passwd': { type: 'file', content: 'root:x:0:0::/root:/bin/sh\n' },
  },
  hostFiles: { '/proc/sys/kernel/cap_last_cap': '40' },
});

const container: InitSpec = {
  root: { path: 'rootfs' },
  process: { args: ['init'], cwd: '/', oomScoreAdj: 100 },
  linux: {
    namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'cgroup' }],
  },
};

const proc: InitProcess = {
  args: ['ps', 'aux'],
  cwd: '/tmp',
  env: ['PATH=/bin:/usr/bin'],
  user: { uid: 0, gid: 0 },
  noNewPrivileges: true,
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }],
};

const exec = (o: Partial<CompileExecOptions> = {}) =>
  compileExec({ pid: 42, process: proc, containerSpec: container, wait: false, fs, rootless: false, ...o });

const ops = (s: SourcedStep[]) => s.map((x) => x.step.op);

describe('compileExec', () => {
  it('joins the namespaces the container has, through /proc/<pid>/ns, in runc order, then forks', () => {
    const steps = exec();
    assert.deepEqual(showAll(steps).slice(0, 7), [
      `Config 0x${ExecFlags.Join.toString(16)}`,
      `NsJoin 0x${CLONE.NEWIPC.toString(16)} /proc/42/ns/ipc`,
      `NsJoin 0x${CLONE.NEWUTS.toString(16)} /proc/42/ns/uts`,
      `NsJoin 0x${CLONE.NEWNET.toString(16)} /proc/42/ns/net`,
      `NsJoin 0x${CLONE.NEWPID.toString(16)} /proc/42/ns/pid`,
      `NsJoin 0x${CLONE.NEWNS.toString(16)} /proc/42/ns/mnt`,
      `NsJoin 0x${CLONE.NEWCGROUP.toString(16)} /proc/42/ns/cgroup`,
    ]);
    assert.ok(!ops(steps).includes(Op.NsNew));
    assert.ok(!ops(steps).includes(Op.Mount));
    assert.ok(!ops(steps).includes(Op.Fifo));
  });

  it('user namespace first; Wait in the foreground; becomes root of the user namespace', () => {
    const spec: InitSpec = { ...container, linux: { namespaces: [{ type: 'mount' }, { type: 'user' }] } };
    const steps = exec({ containerSpec: spec, wait: true });
    const br = steps.findIndex((s) => s.step.op === Op.BecomeRoot);
    assert.ok(br > 0 && br < ops(steps).indexOf(Op.Setsid));
    assert.ok(!ops(exec()).includes(Op.BecomeRoot));
    assert.deepEqual(showAll(steps).slice(0, 3), [
      `Config 0x${(ExecFlags.Join | ExecFlags.Wait).toString(16)}`,
      `NsJoin 0x${CLONE.NEWUSER.toString(16)} /proc/42/ns/user`,
      `NsJoin 0x${CLONE.NEWNS.toString(16)} /proc/42/ns/mnt`,
    ]);
  });

  it('the whole program', () => {
    assert.deepEqual(withFields(exec({ id: 'c1' })).slice(7), [
      'process.rlimits[0] (RLIMIT_NOFILE): Rlimit 7 10 20',
      'process.oomScoreAdj: WriteProc /proc/self/oom_score_adj "100"',
      'process: Setsid',
      'process (session keyring): SessionKeyring _ses.c1',
      'process.noNewPrivileges: NoNewPrivs',
      'process.cwd (/tmp): Chdir /tmp',
      'process.capabilities.bounding: CapsBounding 0x20',
      'process.user (0:0): User 0:0 [] setgroups=1',
      'process.capabilities: Caps e=0x20 p=0x20 i=0x0 a=0x0',
      'process.user.umask: Umask 022',
      'process.args (ps): Resolve ps /bin:/usr/bin',
      'process: WaitStart',
      'process: Launch',
      'process.args (ps): Exec ["ps","aux"] ["PATH=/bin:/usr/bin","HOME=/root"] 0',
    ]);
  });

  it('shares the process set-up with compileCreate (same steps from no_new_privs on)', () => {
    const spec: InitSpec = { ...container, process: { ...proc, rlimits: [] }, linux: { namespaces: [{ type: 'mount' }] } };
    const created = compileCreate({ id: 'c1', bundle: '/b', spec, cgroup: { unified: true, v1: [] }, fs, rootless: false });
    const execd = compileExec({ pid: 42, process: { ...proc, rlimits: [] }, containerSpec: spec, wait: false, fs, rootless: false });
    const tail = (s: SourcedStep[]) => withFields(s.slice(s.findIndex((x) => x.step.op === Op.NoNewPrivs)));
    assert.deepEqual(tail(execd), tail(created));
  });

  it('a terminal: console socket in stage 0, console without /dev/console in the init', () => {
    const steps = exec({ process: { ...proc, terminal: true, consoleSize: { height: 24, width: 80 } }, consoleSocket: '/tmp/s' });
    assert.ok(ops(steps).indexOf(Op.ConsoleSocket) < ops(steps).indexOf(Op.Setsid));
    const c = steps.find((s) => s.step.op === Op.Console)!;
    assert.deepEqual(c.step, { op: Op.Console, rows: 24n, cols: 80n, flags: 0n });
    assert.ok(ops(steps).indexOf(Op.Setsid) < ops(steps).indexOf(Op.Console));
    assert.ok(ops(steps).indexOf(Op.Console) < ops(steps).indexOf(Op.NoNewPrivs));
  });

  it('a terminal without a console socket: relayed by stage 0 in the foreground, refused with --detach', () => {
    const t = { ...proc, terminal: true };
    const steps = exec({ process: t, wait: true });
    assert.deepEqual(steps[0]!.step, { op: Op.Config, flags: ExecFlags.Join | ExecFlags.Wait | ExecFlags.ConsoleRelay });
    assert.ok(!ops(steps).includes(Op.ConsoleSocket));
    assert.deepEqual(steps.find((s) => s.step.op === Op.Console)!.step, { op: Op.Console, rows: 0n, cols: 0n, flags: 0n });
    assert.throws(() => exec({ process: t, wait: false }), {
      code: 'EINVAL',
      message: 'process.terminal: cannot allocate tty if runts will detach without setting console socket',
    });
    assert.deepEqual(exec({ process: t, wait: false, consoleSocket: '/s' })[0]!.step, { op: Op.Config, flags: ExecFlags.Join });
    assert.deepEqual(exec({ process: t, wait: true, consoleSocket: '/s' })[0]!.step, { op: Op.Config, flags: ExecFlags.Join | ExecFlags.Wait });
    assert.deepEqual(exec({ wait: true })[0]!.step, { op: Op.Config, flags: ExecFlags.Join | ExecFlags.Wait });
  });

  it('preserveFds, seccomp and personality from the container', () => {
    const spec: InitSpec = { ...container, linux: { ...container.linux, seccomp: {}, personality: { domain: 'LINUX32' } } };
    assert.throws(() => exec({ containerSpec: spec }), (e: unknown) => e instanceof RuntimeError && /^linux\.seccomp: /.test(e.message));
    const steps = exec({ containerSpec: spec, seccomp: { bpf: new Uint8Array(8) }, preserveFds: 3 });
    const o = ops(steps);
    assert.deepEqual(o.slice(-2), [Op.Seccomp, Op.Exec], 'the filter is the last step before the execve');
    assert.ok(o.includes(Op.Personality));
    const last = steps.at(-1)!.step;
    assert.ok(last.op === Op.Exec && last.preserveFds === 3n);
  });

  it('validates the process', () => {
    assert.throws(() => exec({ process: { args: [], cwd: '/' } }), { code: 'EINVAL', message: 'process.args: must not be empty' });
    assert.throws(() => exec({ pid: 0 }), { code: 'EINVAL' });
  });
});
