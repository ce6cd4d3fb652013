import { register } from '@runts/start/command';
import { runOne } from '../one.ts';

runOne(register, 'start');
