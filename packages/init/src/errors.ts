import { RuntimeError } from '@runts/core';

/** A config error naming the field: `mounts[2].options[1]: ...`. */
export function invalid(field: string, message: string): RuntimeError {
  return new RuntimeError('EINVAL', `${field}: ${message}`);
}
