// Copies the last run's table (bench/results/latest.md) into README.md between the
// `<!-- perf:table -->` markers:  node bench/readme-table.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const table = readFileSync(resolve(root, 'bench/results/latest.md'), 'utf8').trim();
const [command, ...rest] = table.split('\n');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const start = '<!-- perf:table -->';
const end = '<!-- /perf:table -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a === -1 || b === -1) throw new Error('README.md has no perf:table markers');
const body = `Made by \`${command.replace(/ \(.*\)$/, '')}\` (${/\((.*)\)$/.exec(command)?.[1] ?? ''}; 2 cores shared with other workloads; "vs bare" and "vs nchan" = Herald / that server, same run):\n\n${rest.join('\n').trim()}\n`;
writeFileSync(
  resolve(root, 'README.md'),
  `${readme.slice(0, a + start.length)}\n${body}${readme.slice(b)}`,
);
