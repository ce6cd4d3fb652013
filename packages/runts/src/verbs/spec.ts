import { register } from '@runts/spec/command';
import { runOne } from '../one.ts';

runOne(register, 'spec');
