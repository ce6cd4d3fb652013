import { register } from '@runts/delete/command';
import { runOne } from '../one.ts';

runOne(register, 'delete');
