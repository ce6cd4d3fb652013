import type { SourcedStep } from './program.ts';

/** The error text for a failed step: `mounts[2] (/data): mount: no such file or directory`. */
export function formatStepError(step: SourcedStep | undefined, message: string): string {
  if (step === undefined) return message;
  return step.label === undefined ? `${step.field}: ${message}` : `${step.field} (${step.label}): ${message}`;
}
