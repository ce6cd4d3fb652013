// What delete needs of the driver a container was made with: its systemd unit stopped (the
// cgroupfs driver makes nothing besides the dirs, which delete removes itself). Apart from
// driver.ts, so that delete's bundle carries neither the limits nor the unit properties that
// create and update write.
import type { SystemdRecord } from './driver.ts';

/** driverOf(record).release(record.systemd), without the drivers: the unit stopped, the bus closed. */
export async function releaseUnit(s: SystemdRecord | undefined): Promise<void> {
  if (!s) return;
  const { SystemdManager } = await import('./systemd/dbus.ts');
  const m = await SystemdManager.connect({ user: s.user });
  try {
    await m.stopUnit(s.unit);
  } finally {
    m.close();
  }
}
