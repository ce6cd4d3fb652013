// oci-state: the OCI state of a container, exactly as runc prints it.
import { loadContainer, ociState, type OciState } from '@runts/core';

export interface StateOptions {
  root: string;
  id: string;
}

export function state(o: StateOptions): OciState {
  const { record, status } = loadContainer(o.root, o.id);
  return ociState(record, status);
}

/** runc prints json.MarshalIndent(state, "", "  ") with no trailing newline. */
export function formatState(s: OciState): string {
  return JSON.stringify(s, null, 2);
}
