// The systemd manager over D-Bus, with dbus-native (loaded here, lazily: nothing on the cgroupfs
// path imports this file). The system bus as root; rootless, the user's own systemd on the
// session bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus), as runc does.
//
// Jobs: StartTransientUnit / StopUnit return a job path; the job's end is the JobRemoved signal
// (id, job, unit, result). The match rule and Subscribe are in place before the call, and signals
// that arrive before the reply are kept, so no job end is missed.
import { existsSync, readFileSync } from 'node:fs';
import { RuntimeError } from '@runts/core';
import type { UnitProperty } from './properties.ts';

type Bus = import('dbus-native').MessageBus;
type Msg = { type: number; member?: string; interface?: string; path?: string; body?: unknown[] };

const DEST = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const SIGNAL = 4;
const TIMEOUT_MS = 30_000;

export interface SystemdBusOptions {
  /** the user's own systemd (rootless) instead of the system's */
  user: boolean;
  env?: NodeJS.ProcessEnv;
  /** where systemd as pid 1 says it runs (tests) */
  systemdDir?: string;
}

/** The bus address runc would use: the system bus socket, or the user's session bus. */
export function busAddress(o: SystemdBusOptions): string {
  const env = o.env ?? process.env;
  if (!o.user) return env['DBUS_SYSTEM_BUS_ADDRESS'] ?? 'unix:path=/run/dbus/system_bus_socket';
  if (env['DBUS_SESSION_BUS_ADDRESS']) return env['DBUS_SESSION_BUS_ADDRESS'];
  if (env['XDG_RUNTIME_DIR']) return `unix:path=${env['XDG_RUNTIME_DIR']}/bus`;
  throw new RuntimeError('ESYS', '--systemd-cgroup: rootless needs the user\'s session bus: neither $DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR is set');
}

/** The uid the bus knows this process by (SO_PEERCRED, seen from the bus's namespace): our own,
 *  or, inside a user namespace (rootless Podman runs the runtime as uid 0 of its own), the host
 *  uid ours maps to, as runc's DetectUID finds it for go-dbus's EXTERNAL authentication. */
export function hostUid(uid: number = process.getuid?.() ?? 0, uidMap?: string): number {
  let map = uidMap;
  if (map === undefined) {
    try {
      map = readFileSync('/proc/self/uid_map', 'utf8');
    } catch {
      return uid;
    }
  }
  for (const line of map.trim().split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number) as [number, number, number];
    if (uid >= inside && uid < inside + count) return outside + (uid - inside);
  }
  return uid;
}

export class SystemdManager {
  private jobs = new Map<string, string>();
  private waiters = new Map<string, (result: string) => void>();
  private constructor(
    private readonly bus: Bus,
    readonly address: string,
  ) {
    bus.connection.on('message', (m: Msg) => {
      if (m.type !== SIGNAL || m.member !== 'JobRemoved' || m.interface !== MANAGER) return;
      const [, job, , result] = (m.body ?? []) as [number, string, string, string];
      const w = this.waiters.get(job);
      if (w) {
        this.waiters.delete(job);
        w(result);
      } else this.jobs.set(job, result);
    });
  }

  /** Connects and subscribes to job signals; a missing or refusing bus is a clear error. */
  static async connect(o: SystemdBusOptions): Promise<SystemdManager> {
    // runc's IsRunningSystemd: systemd as pid 1 makes /run/systemd/system
    if (!existsSync(o.systemdDir ?? '/run/systemd/system')) throw new RuntimeError('ESYS', '--systemd-cgroup: systemd not running on this host, cannot use the systemd cgroup driver');
    const address = busAddress(o);
    const sock = /^unix:path=([^,;]+)/.exec(address)?.[1];
    if (sock && !existsSync(sock)) throw new RuntimeError('ESYS', `--systemd-cgroup: no D-Bus at ${sock} (is systemd running${o.user ? ' for this user' : ''}?)`);
    const dbus = (await import('dbus-native')).default ?? (await import('dbus-native'));
    // dbus-native's EXTERNAL authentication sends process.getuid(): the host uid is what the bus
    // checks, so it sees that one while the connection is made (restored below)
    const ownGetuid = process.getuid;
    const uid = hostUid();
    if (ownGetuid && uid !== ownGetuid()) process.getuid = () => uid;
    try {
      return await SystemdManager.open(dbus as typeof import('dbus-native'), address);
    } finally {
      process.getuid = ownGetuid;
    }
  }

  private static async open(dbus: typeof import('dbus-native'), address: string): Promise<SystemdManager> {
    const bus = dbus.sessionBus({ busAddress: address, timeout: TIMEOUT_MS } as never) as Bus;
    const failed = new Promise<never>((_r, reject) => {
      bus.connection.once('error', (e: Error) => reject(new RuntimeError('ESYS', `--systemd-cgroup: D-Bus ${address}: ${e.message}`, { cause: e })));
    });
    failed.catch(() => {});
    const m = new SystemdManager(bus, address);
    await Promise.race([
      (async () => {
        await m.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [`type='signal',sender='${DEST}',interface='${MANAGER}',member='JobRemoved'`]);
        await m.call(DEST, PATH, MANAGER, 'Subscribe', '', []);
      })(),
      failed,
    ]);
    return m;
  }

  private async call(dest: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown> {
    try {
      return await this.bus.invoke({ destination: dest, path, interface: iface, member, signature, body } as never, { timeout: TIMEOUT_MS } as never);
    } catch (err) {
      const e = err as Error & { dbusName?: string };
      throw new RuntimeError('ESYS', `systemd ${member}: ${e.dbusName ? `${e.dbusName}: ` : ''}${e.message}`, { cause: err });
    }
  }

  private waitJob(job: string, what: string): Promise<string> {
    const done = this.jobs.get(job);
    if (done !== undefined) {
      this.jobs.delete(job);
      return Promise.resolve(done);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(job);
        reject(new RuntimeError('ESYS', `systemd: ${what}: job ${job} did not finish within ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
      this.waiters.set(job, (r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  /** StartTransientUnit(name, "replace", properties) and waits for the job: "done" or an error. */
  async startTransientUnit(unit: string, props: UnitProperty[]): Promise<void> {
    const job = (await this.call(DEST, PATH, MANAGER, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', toDbus(props), []])) as string;
    const result = await this.waitJob(job, `start ${unit}`);
    if (result !== 'done') throw new RuntimeError('ESYS', `systemd: start ${unit}: job ${result}`);
  }

  /** StopUnit(name, "replace") and waits; a unit that is not loaded is already stopped. */
  async stopUnit(unit: string): Promise<void> {
    let job: string;
    try {
      job = (await this.call(DEST, PATH, MANAGER, 'StopUnit', 'ss', [unit, 'replace'])) as string;
    } catch (err) {
      if (/NoSuchUnit/.test((err as Error).message)) return;
      throw err;
    }
    const result = await this.waitJob(job, `stop ${unit}`);
    if (result !== 'done' && result !== 'skipped') throw new RuntimeError('ESYS', `systemd: stop ${unit}: job ${result}`);
    // a failed transient unit stays loaded until reset
    await this.call(DEST, PATH, MANAGER, 'ResetFailedUnit', 's', [unit]).catch(() => {});
  }

  /** SetUnitProperties(name, runtime=true, properties). */
  async setUnitProperties(unit: string, props: UnitProperty[]): Promise<void> {
    if (props.length === 0) return;
    await this.call(DEST, PATH, MANAGER, 'SetUnitProperties', 'sba(sv)', [unit, true, toDbus(props)]);
  }

  /** A property of the manager (Version, ControlGroup). */
  async managerProperty(name: string): Promise<string> {
    const v = await this.call(DEST, PATH, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [MANAGER, name]);
    return String(Array.isArray(v) ? (v as unknown[])[1] ?? v : v);
  }

  /** systemd's version number (Version "252.36-1~deb12u1" -> 252), as runc's systemdVersion. */
  async version(): Promise<number> {
    const v = await this.managerProperty('Version').catch(() => '');
    const m = /(\d+)/.exec(v.replace(/^v/, ''));
    return m ? Number(m[1]) : 0;
  }

  close(): void {
    try {
      this.bus.connection.end();
    } catch {
      /* closing */
    }
  }
}

/** Properties as dbus-native writes a(sv): [name, Variant(sig, value)]. */
function toDbus(props: UnitProperty[]): unknown[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return props.map((p) => [p.name, [p.sig, p.sig === 'a(ss)' ? (p.value as Array<[string, string]>) : p.value]]);
}
