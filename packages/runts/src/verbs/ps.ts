import { register } from '@runts/ps/command';
import { runOne } from '../one.ts';

runOne(register, 'ps');
