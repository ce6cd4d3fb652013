import { register } from '@runts/features/command';
import { runOne } from '../one.ts';

runOne(register, 'features');
