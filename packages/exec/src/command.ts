import type { CAC } from 'cac';
import { globalOptions, parseCount, toRuntimeError } from '@runts/core';
import { exec } from './index.ts';

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Registers the `exec` command: as the default command of oci-exec (name ''), or `runts exec`. */
export function register(cli: CAC, name = ''): void {
  cli
    .command(name === '' ? '<id> [...command]' : `${name} <id> [...command]`, 'run a new process inside a running container')
    .usage('<container-id> <command> [command options]  ||  -p process.json <container-id>\n\nExit codes: the process\'s exit code (128+N when killed by signal N); 0 with --detach once it runs; 1 when runts fails.')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('--cwd <dir>', 'current working directory in the container')
    .option('-e, --env <var>', 'set environment variables (repeatable)', { type: [String] })
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <uid[:gid]>', 'user id and optional group id')
    .option('-g, --additional-gids <gid>', 'additional gids (repeatable)', { type: [String] })
    .option('-p, --process <file>', 'path to a process.json')
    .option('-d, --detach', 'detach from the container\'s process')
    .option('--pid-file <file>', 'write the process id to this file (decimal, no newline)')
    .option('--process-label <label>', 'SELinux label for the process')
    .option('--apparmor <profile>', 'AppArmor profile for the process')
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('-c, --cap <cap>', 'add a capability to the bounding, effective, permitted and ambient sets (repeatable)', { type: [String] })
    .option('--preserve-fds <n>', 'pass N extra file descriptors (3 .. 3+N-1) to the process')
    .option('--cgroup <path>', 'run in a sub-cgroup: path or controller:path (repeatable)', { type: [String] })
    .option('--ignore-paused', 'allow exec in a paused container')
    .action(async (id: string, command: string[], opts: Record<string, unknown>) => {
      return execOrExit255({
        root: globalOptions(opts).root,
        id,
        args: command,
        processFile: opts.process as string | undefined,
        cwd: opts.cwd as string | undefined,
        env: list(opts.env),
        tty: opts.tty === true,
        user: opts.user as string | undefined,
        additionalGids: list(opts.additionalGids).flatMap((g) => g.split(',')),
        caps: list(opts.cap),
        noNewPrivs: typeof opts.noNewPrivs === 'boolean' ? opts.noNewPrivs : undefined,
        apparmor: opts.apparmor as string | undefined,
        processLabel: opts.processLabel as string | undefined,
        detach: opts.detach === true,
        pidFile: opts.pidFile as string | undefined,
        consoleSocket: opts.consoleSocket as string | undefined,
        preserveFds: parseCount('--preserve-fds', opts.preserveFds),
        ignorePaused: opts.ignorePaused === true,
        cgroup: list(opts.cgroup),
      }, exec);
    });
}

/** runc exits 255 when exec itself fails (`exec failed: ...`), keeping 1..254 for the process. */
async function execOrExit255<O>(o: O, exec: (o: O) => Promise<number>): Promise<number> {
  try {
    return await exec(o);
  } catch (err) {
    throw toRuntimeError(err, 'exec failed').withExitCode(255);
  }
}
