// oci-events: what runc events prints, as JSON lines on stdout: `--stats` one stats event and
// exit; otherwise a stats event every interval and an "oom" event whenever the container's memory
// cgroup records an OOM kill, until the container stops (then exit 0).
import { loadContainer, RuntimeError, stringifyLossless } from '@runts/core';
import { cgroupStats, oomKillCount, hostLayout, type Stats } from '@runts/cgroups';

export interface EventsOptions {
  root: string;
  id: string;
  /** one stats event, then return */
  stats?: boolean;
  /** ms between stats events (runc's default 5s) */
  interval?: number;
  /** where each event line goes (default stdout) */
  write?: (line: string) => void;
  /** stop early (tests) */
  signal?: AbortSignal;
  /** the cgroup layout's mode (tests pass a fixture's) */
  mode?: 'v1' | 'v2' | 'hybrid';
}

export interface Event {
  type: 'stats' | 'oom';
  id: string;
  data?: Stats;
}

/** Go's time.ParseDuration for what people pass to --interval: 5s, 500ms, 1m30s, 1.5s. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/y;
  let ms = 0;
  let i = 0;
  if (s === '0') return 0;
  if (s === '') throw new RuntimeError('EINVAL', 'time: invalid duration ""');
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) throw new RuntimeError('EINVAL', `time: invalid duration ${JSON.stringify(s)}`);
    ms += Number(m[1]) * units[m[2]!]!;
    i = re.lastIndex;
  }
  return ms;
}

function notRunning(id: string): RuntimeError {
  return new RuntimeError('ENOTRUNNING', `container with id ${id} is not running`);
}

export function statsEvent(o: Pick<EventsOptions, 'root' | 'id' | 'mode'>): Event {
  const { record, status } = loadContainer(o.root, o.id);
  if (status === 'stopped') throw notRunning(o.id);
  return { type: 'stats', id: o.id, data: cgroupStats(o.mode ?? hostLayout().mode, record.cgroupPaths) };
}

export async function events(o: EventsOptions): Promise<void> {
  const write = o.write ?? ((line: string) => process.stdout.write(line)); // lint-allow: stream (a long-running stream of events, with backpressure)
  const emit = (e: Event) => write(stringifyLossless(e) + '\n');
  if (o.stats) {
    emit(statsEvent(o));
    return;
  }
  const interval = o.interval ?? 5000;
  if (!(interval > 0)) throw new RuntimeError('EINVAL', 'duration interval must be greater than 0');
  const first = loadContainer(o.root, o.id);
  if (first.status === 'stopped') throw notRunning(o.id);
  const mode = o.mode ?? hostLayout().mode;
  const paths = first.record.cgroupPaths;
  let ooms = oomKillCount(mode, paths) ?? 0n;
  const tick = Math.min(interval, 100);
  let next = Date.now() + interval;
  for (;;) {
    if (o.signal?.aborted) return;
    await new Promise((r) => setTimeout(r, tick));
    const { status } = loadContainer(o.root, o.id);
    const now = oomKillCount(mode, paths);
    if (now !== undefined && now > ooms) {
      for (let n = ooms; n < now; n++) emit({ type: 'oom', id: o.id });
      ooms = now;
    }
    if (status === 'stopped') return;
    if (Date.now() >= next) {
      next += interval * Math.max(1, Math.ceil((Date.now() - next + 1) / interval));
      emit({ type: 'stats', id: o.id, data: cgroupStats(mode, paths) });
    }
  }
}

