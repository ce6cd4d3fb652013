import { cac } from 'cac';
import { addGlobalOptions, runCli } from '@runts/core';
import { register } from './command.ts';

const cli = addGlobalOptions(cac('oci-events'));
register(cli);
void runCli(cli);
