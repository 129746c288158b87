// Whether the live backend can run here, as one sentence a user can act on.
import { existsSync } from 'node:fs';
import { platform } from 'node:os';

export function liveAvailable(): { ok: true } | { ok: false; reason: string } {
  if (platform() !== 'linux') return { ok: false, reason: `the live backend needs Linux (this is ${platform()})` };
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: 'the live backend needs root (it creates network namespaces and memory cgroups); run it as root or use --backend model' };
  }
  if (!existsSync('/proc/net/protocols')) return { ok: false, reason: 'the live backend needs /proc/net/protocols (is /proc mounted?)' };
  if (!existsSync('/sys/fs/cgroup')) return { ok: false, reason: 'the live backend needs the memory cgroup controller under /sys/fs/cgroup' };
  return { ok: true };
}
