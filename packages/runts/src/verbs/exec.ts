import { register } from '@runts/exec/command';
import { runOne } from '../one.ts';

runOne(register, 'exec');
