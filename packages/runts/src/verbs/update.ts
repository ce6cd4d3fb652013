import { register } from '@runts/update/command';
import { runOne } from '../one.ts';

runOne(register, 'update');
