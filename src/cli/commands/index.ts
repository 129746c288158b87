// Every CLI command, in the order --help lists them. Each module exports one register function.
import type { Command } from 'commander';
import { registerRun } from './run.ts';

export const COMMANDS: ((program: Command) => void)[] = [registerRun];
