// oci-list: the containers under root, as runc's table, JSON, or ids only.
import { statSync } from 'node:fs';
import { containerPaths, listIds, readRecord, deriveStatus, ociState, type OciState } from '@runts/core';

export interface ListOptions {
  root: string;
}

export function list(o: ListOptions): OciState[] {
  const out: OciState[] = [];
  for (const id of listIds(o.root)) {
    const paths = containerPaths(o.root, id);
    let s: OciState;
    try {
      const rec = readRecord(paths);
      s = ociState(rec, deriveStatus(rec, paths));
    } catch {
      continue; // deleted meanwhile, or half-written by an interrupted create
    }
    s.owner = ownerName(paths.dir);
    out.push(s);
  }
  return out;
}

const names = new Map<number, string>();
function ownerName(dir: string): string {
  let uid: number;
  try {
    uid = statSync(dir).uid;
  } catch {
    return '';
  }
  let n = names.get(uid);
  if (n === undefined) {
    n = uid === process.getuid?.() ? process.getBuiltinModule('node:os').userInfo().username : `#${uid}`;
    names.set(uid, n);
  }
  return n;
}

/** runc's text/tabwriter table: min width 12, padding 3, the last column unpadded. */
export function formatTable(states: OciState[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(12, ...rows.map((r) => r[c]!.length + 3)));
  return rows.map((r) => r.map((cell, c) => (c < 5 ? cell.padEnd(widths[c]!) : cell)).join('') + '\n').join('');
}
