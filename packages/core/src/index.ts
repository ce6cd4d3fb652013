export * from './errors.ts';
export * from './paths.ts';
export * from './sys.ts';
export * from './json.ts';
export * from './lock.ts';
export * from './state.ts';
export * from './log.ts';
export * from './cli.ts';
