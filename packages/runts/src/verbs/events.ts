import { register } from '@runts/events/command';
import { runOne } from '../one.ts';

runOne(register, 'events');
