// `npm start`: runs the built gateway without rebuilding (npm install builds through `prepare`;
// `npm run build` rebuilds, and switches dist/ atomically, so running gateways are not disturbed).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const main = join(root, 'dist/apps/gateway/src/main.js');
if (!existsSync(main)) {
  process.stderr.write(
    'herald: no build found (dist/apps/gateway/src/main.js is missing).\n' +
      '  Run `npm run build` once (npm install does it through "prepare"), then `npm start`.\n',
  );
  process.exit(1);
}
createRequire(import.meta.url)(main);
