// Runs one example from .build/examples (compiled by `npm run build:tools`):
//
//   npm run example               tcp-echo: an embedded echo server, needs nothing
//   npm run example -- <name>     any file of examples/, e.g. workers, metrics, postgres, redis
//
// The example runs in a child process so that its exit code, signals and output are its own.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const name = process.argv[2] ?? 'tcp-echo';
if (!available.includes(name)) {
  console.error(`Unknown example ${JSON.stringify(name)}. Available: ${available.join(', ')}.`);
  process.exit(2);
}
const script = fileURLToPath(new URL(`../.build/examples/${name}.js`, import.meta.url));
if (!existsSync(script)) {
  console.error(`${script} is missing: run \`npm run build:tools\` first (npm run example does).`);
  process.exit(2);
}
const child = spawn(process.execPath, [script, ...process.argv.slice(3)], { stdio: 'inherit' });
// Ctrl-C reaches the example from the terminal (examples shut down gracefully on it); SIGTERM
// sent to this runner is passed on. The runner exits when the example does, with its status.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
