import { register } from '@runts/run/command';
import { runOne } from '../one.ts';

runOne(register, 'run');
