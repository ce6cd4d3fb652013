// The e2e helper library (see each module).
export * from './env.mjs';
export * from './runtime.mjs';
export * from './bundle.mjs';
export * from './probe.mjs';
export * from './cleanup.mjs';
