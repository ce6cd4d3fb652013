import { register } from '@runts/pause/command';
import { runOne } from '../one.ts';

runOne(register, 'pause');
