import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The soft open-files limit of process `pid` (default: this one), read from
 * `/proc/<pid>/limits`. Throws when it cannot be read, so a test that needs many sockets fails
 * with a clear message instead of checking a made-up number.
 */
export function fdLimit(pid: number = process.pid): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot read the open-files limit of pid ${pid}: ${why}`);
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) throw new Error(`no "Max open files" line in /proc/${pid}/limits`);
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/**
 * Raises this process's soft open-files limit towards `wanted` (up to the hard limit, with
 * `prlimit` when installed), so it and the processes it spawns afterwards can hold thousands of
 * sockets. Returns the limit now in force (measured, never assumed).
 */
export function raiseFdLimit(wanted: number): number {
  const current = fdLimit();
  if (current >= wanted) return current;
  try {
    const hard = execFileSync(
      'prlimit',
      ['--pid', String(process.pid), '--nofile', '--output', 'HARD', '--noheadings'],
      { encoding: 'utf8' },
    ).trim();
    const target = hard === 'unlimited' ? wanted : Math.min(wanted, Number(hard));
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:`]);
  } catch {
    // prlimit missing or not permitted: the caller checks the limit returned below.
  }
  return fdLimit();
}
