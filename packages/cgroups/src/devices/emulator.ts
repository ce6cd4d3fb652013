// The kernel's cgroup v1 devices controller, emulated as runc's libcontainer/cgroups/devices does:
// the rules are applied in order (an "a" rule resets to allow-all or deny-all, any other rule adds
// or removes an exception), the last match wins, and a rule that would punch a hole in a wildcard
// exception is refused (cgroup v1 would silently ignore it). The result is a "clean" rule list:
// the default action and exceptions that all have the opposite action, which is what the v1
// devices.allow/devices.deny files get and what the cgroup v2 eBPF program is generated from.
import { RuntimeError } from '@runts/core';

export type DeviceType = 'a' | 'b' | 'c';
/** major/minor: a number, or '*' (any). */
export type DeviceNumber = number | '*';

export interface DeviceRule {
  allow: boolean;
  type: DeviceType;
  major: DeviceNumber;
  minor: DeviceNumber;
  /** any string; only r, w and m count (runc's Permissions: other letters are ignored) */
  access: string;
  /** the config field the rule came from, for error messages */
  field?: string;
}

/** Access bits, as BPF_DEVCG_ACC_*: mknod 1, read 2, write 4. */
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;

export function accessBits(access: string): number {
  let set = 0;
  for (const ch of access) {
    if (ch === 'r') set |= ACC_READ;
    else if (ch === 'w') set |= ACC_WRITE;
    else if (ch === 'm') set |= ACC_MKNOD;
  }
  return set;
}

export function accessString(bits: number): string {
  return `${bits & ACC_READ ? 'r' : ''}${bits & ACC_WRITE ? 'w' : ''}${bits & ACC_MKNOD ? 'm' : ''}`;
}

/** An exception of the clean rule list: type b or c, with the action opposite to the default. */
export interface Exception {
  type: 'b' | 'c';
  major: DeviceNumber;
  minor: DeviceNumber;
  /** ACC_* bits, never 0 */
  access: number;
}

export interface CleanRules {
  /** true: everything is allowed but the exceptions (runc's "blacklist"); false: only them */
  defaultAllow: boolean;
  /** sorted by major, minor, type (runc's order) */
  exceptions: Exception[];
}

const key = (type: string, major: DeviceNumber, minor: DeviceNumber): string => `${type} ${major}:${minor}`;
const fmt = (type: string, major: DeviceNumber, minor: DeviceNumber, access: number): string => `${key(type, major, minor)} ${accessString(access)}`;

export class DevicesEmulator {
  defaultAllow = false;
  private rules = new Map<string, Exception>();

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      // "a" resets whatever its numbers and access say
      this.defaultAllow = rule.allow;
      this.rules.clear();
      return;
    }
    const ex = { type: rule.type, major: rule.major, minor: rule.minor, access: accessBits(rule.access) };
    // an allow in allow-all mode, or a deny in deny-all mode, removes an exception; else it adds one
    if (rule.allow === this.defaultAllow) this.remove(ex, rule);
    else this.add(ex);
  }

  private add(ex: Exception): void {
    const k = key(ex.type, ex.major, ex.minor);
    const old = this.rules.get(k);
    const access = (old?.access ?? 0) | ex.access;
    if (access === 0) return;
    this.rules.set(k, { ...ex, access });
  }

  private remove(ex: Exception, rule: DeviceRule): void {
    for (const [major, minor] of [
      ['*', ex.minor],
      [ex.major, '*'],
      ['*', '*'],
    ] as const) {
      if (major === ex.major && minor === ex.minor) continue;
      const partial = this.rules.get(key(ex.type, major, minor));
      if (partial && (partial.access & ex.access) !== 0) {
        const what = `${rule.field ? `${rule.field}: ` : ''}${rule.allow ? 'allow' : 'deny'} ${fmt(ex.type, ex.major, ex.minor, ex.access)}`;
        throw new RuntimeError(
          'EINVAL',
          `${what}: not supported by the devices cgroup (cannot punch a hole in the earlier wildcard rule ${fmt(ex.type, major, minor, partial.access)})`,
        );
      }
    }
    const k = key(ex.type, ex.major, ex.minor);
    const old = this.rules.get(k);
    if (!old) return;
    const access = old.access & ~ex.access;
    if (access === 0) this.rules.delete(k);
    else this.rules.set(k, { ...old, access });
  }

  clean(): CleanRules {
    const n = (v: DeviceNumber): number => (v === '*' ? -1 : v);
    const exceptions = [...this.rules.values()].sort((a, b) => n(a.major) - n(b.major) || n(a.minor) - n(b.minor) || cmp(a.type, b.type));
    return { defaultAllow: this.defaultAllow, exceptions };
  }
}

/** The clean rules of a rule list, as runc computes them for both cgroup versions. */
export function emulate(rules: readonly DeviceRule[]): CleanRules {
  const e = new DevicesEmulator();
  for (const r of rules) e.apply(r);
  return e.clean();
}

/** The lines to write to a v1 devices cgroup (after its reset to deny-all with `devices.deny a`):
 *  [file, line] pairs. */
export function v1Writes(clean: CleanRules): Array<['devices.allow' | 'devices.deny', string]> {
  const out: Array<['devices.allow' | 'devices.deny', string]> = [];
  if (clean.defaultAllow) out.push(['devices.allow', 'a *:* rwm']);
  const file = clean.defaultAllow ? 'devices.deny' : 'devices.allow';
  for (const e of clean.exceptions) out.push([file, fmt(e.type, e.major, e.minor, e.access)]);
  return out;
}

/** Plain code-unit order: localeCompare would load ICU's collator (~5 ms, a fifth of a verb's run). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
