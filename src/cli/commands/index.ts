// Every CLI command, in the order --help lists them. Each module exports one register function.
import type { Command } from 'commander';
import { registerBench } from './bench.ts';
import { registerCompare } from './compare.ts';
import { registerDemo } from './demo.ts';
import { registerDiff } from './diff.ts';
import { registerFuzz } from './fuzz.ts';
import { registerKernels } from './kernels.ts';
import { registerRun } from './run.ts';
import { registerKernelInfo } from './kernel_info.ts';

export const COMMANDS: ((program: Command) => void)[] = [registerRun, registerCompare, registerKernels, registerDiff, registerDemo, registerKernelInfo, registerBench, registerFuzz];
