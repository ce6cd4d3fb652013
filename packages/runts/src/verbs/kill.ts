import { register } from '@runts/kill/command';
import { runOne } from '../one.ts';

runOne(register, 'kill');
