import { register } from '@runts/create/command';
import { runOne } from '../one.ts';

runOne(register, 'create');
