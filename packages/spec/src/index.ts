// @runts/spec: the OCI runtime-spec v1.3.0 types (generated), lossless parsing, validation
// (schema validator generated at build time + semantic checks) and runc's default spec.
// Nothing runs at import: this module is on the critical path of oci-create.
export type * from './generated/types.ts';
export type { Problem, ValidateOptions } from './validate.ts';
export type { Bundle, BundleCheck } from './bundle.ts';
export type { DefaultSpecOptions } from './defaults.ts';
export { validateConfig } from './validate.ts';
export { parseConfig, loadBundle, checkBundle, formatProblem } from './bundle.ts';
export { defaultSpec, writeDefaultSpec, formatSpec, OCI_VERSION } from './defaults.ts';
export { validateStateSchema, validateFeaturesSchema } from './generated/validate.js';
