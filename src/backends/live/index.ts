// The live-kernel backend: runs scenario files on this machine's kernel through raw syscalls
// and answers with the same observation JSON as the model. See docs/live-backend.md.
export { runLive, type LiveOptions } from './run.ts';
export { kernelInfo, type KernelInfo } from './kernel_info.ts';
export { liveAvailable } from './available.ts';
