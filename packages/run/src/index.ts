// oci-run: create + start + wait in one process. Exits with the container's status (code, or
// 128 + signal), forwarding signals to it; --detach returns once it runs; --keep keeps it after.
import { launch, type CreateOptions } from '@runts/create';
import { start } from '@runts/start';
import { deleteContainer } from '@runts/delete';
import { signalPid, warn, signalNumbers } from '@runts/core';

export interface RunOptions extends CreateOptions {
  detach?: boolean | undefined;
  keep?: boolean | undefined;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function run(o: RunOptions): Promise<number> {
  // The executor runs in a session of its own (launch), so signals from the terminal reach only
  // us, and we forward each exactly once; with a relayed terminal they arrive as bytes (raw mode).
  const { record, init } = await launch(o, { wait: !o.detach });
  // process.terminal without --console-socket: the executor relays the terminal and passes a
  // window size change on to the pty (the kernel then signals the container), so no SIGWINCH here.
  const relay = !o.detach && !o.consoleSocket && (record.config as { process?: { terminal?: boolean } }).process?.terminal === true;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const s of FORWARDED) {
    if (relay && s === 'SIGWINCH') continue;
    const h = () => void signalPid(record.pid, signalNumbers()[s]!);
    handlers.set(s, h);
    process.on(s, h);
  }
  let status: number;
  try {
    await start({ root: o.root, id: o.id });
    if (o.detach) {
      init.close();
      return 0;
    }
    const { code, signal } = await init.exit();
    status = code ?? 128 + (signal ? (signalNumbers()[signal] ?? 0) : 0);
  } catch (err) {
    await deleteContainer({ root: o.root, id: o.id, force: true }).catch((e: Error) => warn(e.message));
    throw err;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
  if (!o.keep) await deleteContainer({ root: o.root, id: o.id, force: true });
  return status;
}
