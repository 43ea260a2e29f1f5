// Diffs two heap snapshots (bench/server-host's {cmd:'heapsnapshot'}; BENCH_HEAP_SNAPSHOT=1 with
// scenario a writes results/prof/idle-{before,after}.heapsnapshot) by constructor / node name:
//   node bench/heap-top.mjs before.heapsnapshot after.heapsnapshot [streams] [count]
// Prints the self size (bytes) and count added per stream, largest first.
import { readFileSync } from 'node:fs';

const [beforeFile, afterFile, streams = '1', count = '30'] = process.argv.slice(2);

function summarize(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const nodes = snap.nodes;
  const byKey = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const name = type === 'object' || type === 'closure' ? snap.strings[nodes[i + iName]] : '';
    const key = `${type}${name ? ` ${name}` : ''}`;
    const entry = byKey.get(key) ?? { size: 0, count: 0 };
    entry.size += nodes[i + iSize];
    entry.count++;
    byKey.set(key, entry);
  }
  return byKey;
}

const before = summarize(beforeFile);
const after = summarize(afterFile);
const n = Number(streams);
const rows = [];
let total = 0;
for (const [key, a] of after) {
  const b = before.get(key) ?? { size: 0, count: 0 };
  const size = (a.size - b.size) / n;
  total += size;
  rows.push([key, size, (a.count - b.count) / n]);
}
rows.sort((x, y) => y[1] - x[1]);
console.log(`per stream: ${Math.round(total)} B of JS heap (self sizes) over ${n} streams`);
for (const [key, size, c] of rows.slice(0, Number(count))) {
  console.log(`${Math.round(size).toString().padStart(7)} B  ${c.toFixed(2).padStart(6)}  ${key}`);
}
