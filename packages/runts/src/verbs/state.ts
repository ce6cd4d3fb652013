import { register } from '@runts/state/command';
import { runOne } from '../one.ts';

runOne(register, 'state');
