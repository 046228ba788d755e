/**
 * `npm run example -- <name>` (scripts/example.mjs) runs any file of examples/, and the README
 * tells what each one needs. The examples themselves are run by examples.test.ts and tests/services.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const names = readdirSync(new URL('examples/', `file://${root}`))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

test('an unknown name fails with exit code 2 and lists the examples', async () => {
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['scripts/example.mjs', 'no-such-example'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }, (_, __, stderr) =>
      resolve({ code: child.exitCode, stderr }),
    );
  });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('Unknown example "no-such-example"');
  for (const name of names) expect(result.stderr).toContain(name);
}, 60_000);

test("the README's example table lists every example, with what it needs", () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Examples'), readme.indexOf('\n## ', readme.indexOf('## Examples') + 1));
  expect(section).toContain('npm run example -- <name>');
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  expect(rows.map((row) => /^\| `([\w-]+)`/.exec(row)![1]).sort()).toEqual([...names].sort());
  for (const row of rows) expect(row.split('|').at(-2)!.trim()).not.toBe('');
});
