// The library behind `runts`: every verb's function, for programs that embed runts.
export { create, launch, type CreateOptions } from '@runts/create';
export { start } from '@runts/start';
export { state, formatState } from '@runts/state';
export { kill } from '@runts/kill';
export { deleteContainer } from '@runts/delete';
export { list, formatTable } from '@runts/list';
export { run } from '@runts/run';
export { exec, buildProcess, type ExecOptions } from '@runts/exec';
export { pause, resume } from '@runts/pause';
export { ps, psTable } from '@runts/ps';
export { features } from '@runts/features';
export { update, mergeResources, readResources, resourcesFromFlags, type UpdateOptions } from '@runts/update';
export { events, statsEvent, type EventsOptions } from '@runts/events';
