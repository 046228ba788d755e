/**
 * Child-process helpers for the reliability tests. Some checks need a process of their own: a
 * forced GC (`--expose-gc`, which jest's workers lack), or "the process exits by itself", which
 * only a fresh process can show. Children run a fresh compilation of src/ (see
 * fixtures/build-src.mjs), so no prior `npm run build` is needed and no stale dist/ is tested.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Absolute path of a fixture script. */
export function fixture(name: string): string {
  return join(here, 'fixtures', name);
}

/**
 * Compiles src/ into a fresh temporary directory and returns it; pair with {@link removeBuild}.
 * `format: 'cjs'` compiles to CommonJS, as the package's `require()` build.
 */
export function buildSrc(format: 'esm' | 'cjs' = 'esm'): string {
  const dir = mkdtempSync(join(tmpdir(), 'poolkeeper-reliability-'));
  execFileSync(process.execPath, [fixture('build-src.mjs'), dir, format], { stdio: ['ignore', 'ignore', 'pipe'] });
  return dir;
}

export function removeBuild(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the child did not exit by itself within the limit and was killed. */
  readonly killed: boolean;
  readonly elapsedMs: number;
}

/**
 * Runs `node ...args` and resolves when it exits. A child still running after `limitMs` is
 * killed (SIGKILL) and reported with `killed: true`, so a hang fails the test instead of
 * stalling it.
 */
export function runNode(args: readonly string[], limitMs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // NODE_OPTIONS carries jest's --experimental-vm-modules; the child needs none of it.
    const env = { ...process.env, NODE_OPTIONS: '' };
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed, elapsedMs: performance.now() - started });
    });
  });
}

/** The last line of a child's stdout, parsed as JSON (fixtures print their result that way). */
export function lastJson<R>(result: ChildResult): R {
  const lines = result.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  if (last === undefined || last === '') {
    throw new Error(`the child printed no result (exit ${result.code}, signal ${result.signal}); stderr:\n${result.stderr}`);
  }
  return JSON.parse(last) as R;
}
