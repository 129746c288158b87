// Bad scenario files are refused with file:line:column, the key and what was expected, and
// exit code 2 from the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../src/scenario/parse.ts';

const GOOD = 'name: ok\nconnection: { start: zero_window }\nsender: { so_zerocopy: true }\nsteps:\n  - send: { len: 4096, zerocopy: true }\n';

function errorOf(text: string): string {
  try {
    parseScenarioText(text, 'bad.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('scenario validation', () => {
  it('accepts a good file and sizes with units', () => {
    const s = parseScenarioText(GOOD.replace('len: 4096', 'len: 64KiB'), 'good.yaml');
    expect(s.scenario.steps[0]).toEqual({ send: { len: 65536, zerocopy: true } });
  });
  it('unknown key: names file:line:column and the key', () => {
    expect(errorOf(GOOD.replace('so_zerocopy: true', 'so_zerocopy: true, so_bogus: 1'))).toBe('bad.yaml:3:30: sender.so_bogus: unknown key "so_bogus" under sender');
  });
  it('unknown top-level key lists the expected ones', () => {
    expect(errorOf(`${GOOD}extra: 1\n`)).toMatch(/^bad\.yaml:6:1: extra: unknown key "extra" \(expected name, /);
  });
  it('wrong type', () => {
    expect(errorOf(GOOD.replace('so_zerocopy: true', 'so_zerocopy: yes please'))).toBe('bad.yaml:3:24: sender.so_zerocopy: expected true or false');
  });
  it('negative length', () => {
    expect(errorOf(GOOD.replace('len: 4096', 'len: -5'))).toMatch(/^bad\.yaml:5:18: steps\[0\]\.send\.len: expected the number of bytes to send \(a non-negative integer, or a size like 64KiB\), found -5$/);
  });
  it('unknown op', () => {
    expect(errorOf(GOOD.replace('- send:', '- sned:'))).toMatch(/^bad\.yaml:5:5: steps\[0\]\.sned: unknown op "sned"/);
  });
  it('offset outside a page, bad enum, len and iov together', () => {
    expect(errorOf(GOOD.replace('len: 4096', 'len: 1, offset: 5000'))).toMatch(/steps\[0\]\.send\.offset: expected an offset within a 4 KiB page/);
    expect(errorOf(GOOD.replace('zero_window', 'frozen'))).toBe('bad.yaml:2:22: connection.start: expected fresh or zero_window');
    expect(errorOf(GOOD.replace('len: 4096', 'len: 1, iov: [1]'))).toMatch(/steps\[0\]\.send: expected exactly one of len or iov/);
  });
  it('invalid YAML', () => {
    expect(errorOf('name: x\nsteps: [\n')).toMatch(/^bad\.yaml:\d+:\d+: invalid YAML/);
  });
});

describe('CLI exit codes for bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skmem-test-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/skmem.js', ...args], { encoding: 'utf8' });
  it('bad scenario file: exit 2, one line naming file:line:column, nothing on stdout', () => {
    const f = join(dir, 'neg.yaml');
    writeFileSync(f, GOOD.replace('len: 4096', 'len: -1'));
    const r = cli('run', f);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`skmem: ${f}:5:18: steps[0].send.len: expected the number of bytes to send (a non-negative integer, or a size like 64KiB), found -1`);
  });
  it('unknown profile: exit 2', () => {
    const f = join(dir, 'good.yaml');
    writeFileSync(f, GOOD);
    const r = cli('run', f, '--kernel', '4.19');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown kernel profile "4\.19" \(expected one of 5\.15, 5\.16-v1, 5\.16, 5\.17, 6\.18/);
  });
  it('bad --set: exit 2', () => {
    const f = join(dir, 'good.yaml');
    const r = cli('run', f, '--set', 'max_tcp_header=abc');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--set max_tcp_header=abc: expected a non-negative integer/);
  });
  it('missing file: exit 2', () => {
    const r = cli('run', join(dir, 'nope.yaml'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read scenario file \(ENOENT\)/);
  });
});
