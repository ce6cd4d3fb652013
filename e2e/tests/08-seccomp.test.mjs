// Seccomp (linux.seccomp): the filter the runtime loads decides what the container's process may
// call. Each profile runs under runc and under the runtime being tested, on the same bundle: they
// must agree on what is refused, with which errno, and on what kills the process.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { runtime, makeBundle, newId, show } from '../lib/index.mjs';

const rt = runtime();
const runc = runtime('runc');
const ARCHS = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

// A representative part of Docker's default profile (moby profiles/seccomp/default.json): deny
// by default with EPERM, allow what ordinary programs call, personality only for the usual
// domains, clone without namespace flags, clone3 ENOSYS so that libcs fall back to clone.
const DOCKER_ALLOW = `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
clock_getres clock_gettime clock_nanosleep close close_range connect copy_file_range creat dup dup2 dup3 epoll_create
epoll_create1 epoll_ctl epoll_pwait epoll_pwait2 epoll_wait eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchownat fcntl fdatasync fgetxattr flistxattr
flock fork fremovexattr fsetxattr fstat fstatfs fsync ftruncate futex futimesat getcpu getcwd getdents getdents64 getegid
geteuid getgid getgroups getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresuid
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents ioprio_get ioprio_set
io_setup io_submit kill lchown lgetxattr link linkat listen listxattr llistxattr lremovexattr lseek lsetxattr lstat madvise
membarrier memfd_create mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mprotect mq_getsetattr mq_notify
mq_open mq_timedreceive mq_timedsend mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep
newfstatat open openat openat2 pause pipe pipe2 poll ppoll prctl pread64 preadv preadv2 prlimit64 pselect6 pwrite64 pwritev
pwritev2 read readahead readlink readlinkat readv recvfrom recvmmsg recvmsg remap_file_pages removexattr rename renameat
renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield select semctl semget semop semtimedop sendfile sendmmsg sendmsg sendto setfsgid setfsuid
setgid setgroups setitimer setpgid setpriority setregid setresgid setresuid setreuid setrlimit set_robust_list setsid
setsockopt set_thread_area set_tid_address setuid setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd
signalfd4 socket socketpair splice stat statfs statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
timer_create timer_delete timer_getoverrun timer_gettime timer_settime timerfd_create timerfd_gettime timerfd_settime times
tkill truncate umask uname unlink unlinkat utime utimensat utimes vfork vmsplice wait4 waitid write writev arch_prctl
modify_ldt`.split(/\s+/);

function dockerLike() {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ARCHS,
    syscalls: [
      { names: DOCKER_ALLOW, action: 'SCMP_ACT_ALLOW' },
      ...[0, 8, 131072, 131080, 4294967295].map((v) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }] })),
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
}

const bundles = [];
after(() => {
  for (const b of bundles) b.cleanup();
});

/** A bundle running `sh -c script` (stderr into stdout) under the profile. */
async function bundleWith(seccomp, script, opts = {}) {
  const b = await makeBundle({
    name: 'seccomp',
    args: opts.args ?? ['sh', '-c', `exec 2>&1; ${script}`],
    readonly: false,
    edit(c) {
      c.linux.seccomp = seccomp;
      opts.edit?.(c);
    },
  });
  b.write();
  bundles.push(b);
  return b;
}

/** `run` under runc and under the runtime tested: the same exit code and output, which are returned. */
async function agree(t, b, name) {
  const out = {};
  for (const r of [runc, rt]) {
    const id = newId(`${name}-${r.name}`);
    t.after(() => r.forceDelete(id));
    const res = await r.run(id, { bundle: b.dir });
    out[r.name] = { code: res.code, stdout: res.stdout, res };
  }
  const mine = out[rt.name];
  assert.equal(mine.code, out.runc.code, `exit code: runc ${out.runc.code}\n${show(out.runc.res)}\n${show(mine.res)}`);
  assert.equal(mine.stdout, out.runc.stdout, `runc:\n${show(out.runc.res)}\n${rt.name}:\n${show(mine.res)}`);
  return mine;
}

describe(`seccomp (${rt.name}, differential against runc)`, () => {
  test('SCMP_ACT_ERRNO refuses mkdir with EPERM; getpid and the rest run; Seccomp: 2 in /proc/self/status', async (t) => {
    const b = await bundleWith(
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHS, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] },
      'mkdir /tmp/x; echo mkdir=$?; test -d /tmp/x && echo made; echo pid=$$; grep -E "^Seccomp(_filters)?:" /proc/self/status',
    );
    const r = await agree(t, b, 'errno');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /mkdir: can't create directory '\/tmp\/x': Operation not permitted\nmkdir=1\npid=1\nSeccomp:\t2\nSeccomp_filters:\t1\n$/);
  });

  test('errnoRet: another errno', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }, 'mkdir /tmp/x; echo mkdir=$?');
    const r = await agree(t, b, 'errnoret');
    assert.match(r.stdout, /Permission denied\nmkdir=1\n$/);
  });

  test("a Docker-like default profile (deny by default, long allow list): sh, echo and ls work; what is not listed gets EPERM", async (t) => {
    const b = await bundleWith(dockerLike(), 'echo ok; ls /; linux32 uname -m; sync && echo sync-ok; hostname other; echo sethostname=$?');
    const r = await agree(t, b, 'docker');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ok\n(.*\n)*bin\n(.*\n)*proc\n/);
    assert.match(r.stdout, /\ni686\nsync-ok\nhostname: sethostname: Operation not permitted\nsethostname=1\n$/);
  });

  test('argument conditions: personality(PER_LINUX32) refused by a masked compare, personality(0) allowed', async (t) => {
    const b = await bundleWith(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] }] },
      'linux64 uname -m; echo linux64=$?; linux32 uname -m; echo linux32=$?',
    );
    const r = await agree(t, b, 'args');
    assert.match(r.stdout, /^x86_64\nlinux64=0\n.*Operation not permitted\nlinux32=1\n$/);
  });

  test('two conditions on the same argument become two rules (runc): personality != 0, != 0xffffffff refuses both', async (t) => {
    const b = await bundleWith(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_NE' }, { index: 0, value: 4294967295, op: 'SCMP_CMP_NE' }] }],
      },
      'linux64 true; echo linux64=$?; linux32 true; echo linux32=$?',
    );
    const r = await agree(t, b, 'split');
    assert.match(r.stdout, /^linux64: personality\(0x0\): Operation not permitted\nlinux64=1\nlinux32: personality\(0x8\): Operation not permitted\nlinux32=1\n$/);
  });

  test('SCMP_ACT_KILL kills the process with SIGSYS (exit 159)', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] }, '', { args: ['mkdir', '/tmp/x'] });
    const r = await agree(t, b, 'kill');
    assert.equal(r.code, 159, show(r.res));
  });

  test('SCMP_ACT_KILL_PROCESS from a child: the shell sees it killed by SIGSYS', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] }, 'mkdir /tmp/x; echo status=$?');
    const r = await agree(t, b, 'killproc');
    assert.equal(r.stdout, 'Bad system call\nstatus=159\n');
  });

  test('syscall names the kernel or libseccomp does not know are skipped', async (t) => {
    const b = await bundleWith(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall_runts', 'mkdir', 'mkdirat', 'another_unknown_one'], action: 'SCMP_ACT_ERRNO' }] },
      'mkdir /tmp/x; echo mkdir=$?',
    );
    const r = await agree(t, b, 'unknown');
    assert.match(r.stdout, /mkdir=1\n$/);
  });

  test('no_new_privileges with a profile: the filter still loads, last', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, 'mkdir /tmp/x; echo mkdir=$?; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status', {
      edit(c) {
        c.process.noNewPrivileges = true;
      },
    });
    const r = await agree(t, b, 'nnp');
    assert.match(r.stdout, /mkdir=1\nNoNewPrivs:\t1\nSeccomp:\t2\n$/);
  });
});

// runc refuses these too, in its own words: the messages are checked for runts only
describe(`seccomp (${rt.name})`, () => {
  test('a bad action is refused, the error names the field; nothing is left behind', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_FOO' }] }, 'true');
    const runcId = newId('bad-runc');
    t.after(() => runc.forceDelete(runcId));
    const rr = await runc.run(runcId, { bundle: b.dir });
    assert.notEqual(rr.code, 0, `runc refuses it too\n${show(rr)}`);
    const id = newId('bad');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: b.dir });
    assert.notEqual(r.code, 0, show(r));
    // the schema check names it first; the compiler's own message is unit-tested in @runts/seccomp
    if (rt.name !== 'runc') assert.match(r.error, /linux\.seccomp\.syscalls\[1\]\.action: /, show(r));
    const s = await rt.state(id);
    assert.notEqual(s.code, 0, `no container: ${show(s)}`);
  });

  test('an architecture libseccomp 2.5 does not know is refused (runc too), naming the field', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64'] }, 'true');
    const runcId = newId('arch-runc');
    t.after(() => runc.forceDelete(runcId));
    const rr = await runc.run(runcId, { bundle: b.dir });
    assert.notEqual(rr.code, 0, `runc refuses it too\n${show(rr)}`);
    const id = newId('arch');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: b.dir });
    assert.notEqual(r.code, 0, show(r));
    if (rt.name !== 'runc') assert.match(r.error, /linux\.seccomp\.architectures\[1\]: unknown or unsupported architecture "SCMP_ARCH_LOONGARCH64"/, show(r));
  });

  test('SCMP_ACT_NOTIFY without an agent on listenerPath fails clearly (the agent itself: 32-seccomp-notify)', async (t) => {
    const b = await bundleWith({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/none.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'true');
    const id = newId('notify');
    t.after(() => rt.forceDelete(id));
    const r = await rt.run(id, { bundle: b.dir });
    assert.notEqual(r.code, 0, show(r));
    if (rt.name !== 'runc') assert.match(r.error, /linux\.seccomp\.listenerPath \(\/run\/none\.sock\): connect \/run\/none\.sock: No such file or directory/, show(r));
  });

  test('exec into a container with a profile: the process gets the filter too (as with runc)', async (t) => {
    // a uint64 past 2^53 (the mask): exec must read it back from the state exactly
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 'U64_MAX', valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
    const b = await bundleWith(profile, '', { args: ['sleep', '1000'] });
    writeFileSync(b.path('config.json'), readFileSync(b.path('config.json'), 'utf8').replace('"U64_MAX"', '18446744073709551615'));
    const out = {};
    for (const r of [runc, rt]) {
      const id = newId(`exec-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.run(id, { bundle: b.dir, detach: true });
      assert.equal(c.code, 0, show(c));
      const e = await r.exec(id, ['sh', '-c', 'exec 2>&1; mkdir /tmp/y; echo mkdir=$?; linux64 true; echo linux64=$?; linux32 true; echo linux32=$?; grep -E "^Seccomp:" /proc/self/status']);
      assert.equal(e.code, 0, show(e));
      out[r.name] = e.stdout;
    }
    assert.equal(out[rt.name], out.runc);
    assert.match(out[rt.name], /Permission denied\nmkdir=1\nlinux64=0\nlinux32: personality\(0x8\): Operation not permitted\nlinux32=1\nSeccomp:\t2\n$/);
  });
});
