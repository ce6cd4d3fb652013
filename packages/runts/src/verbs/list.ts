import { register } from '@runts/list/command';
import { runOne } from '../one.ts';

runOne(register, 'list');
