// Claude Code 2.1.112 (print mode) completes a turn against `pensieve serve`, in a network
// namespace with only loopback so it cannot reach anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { BIN, READY } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'node_modules', '@anthropic-ai', 'claude-code', 'cli.js');

function skipReason() {
  if (!READY) return 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)';
  if (!existsSync(cli)) return 'SKIP: @anthropic-ai/claude-code (optional dependency) is not installed';
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return 'SKIP: cannot create a network namespace (unshare -n)';
  if (spawnSync('curl', ['--version']).status !== 0) return 'SKIP: curl is not installed';
  return false;
}

const boundMs = 1000 * Number(process.env.PENSIEVE_CC_BOUND_S || 50);  // claude_code.sh's bound

test('claude -p completes a turn with pensieve as ANTHROPIC_BASE_URL', { skip: skipReason(), timeout: boundMs + 70000 }, () => {
  // run.sh makes the ending model and removes PENSIEVE_TEST_WORK afterwards; no fallback model.
  assert.ok(process.env.PENSIEVE_ENDING_MODEL, 'PENSIEVE_ENDING_MODEL is not set (run through run.sh)');
  const work = mkdtempSync(join(process.env.PENSIEVE_TEST_WORK || tmpdir(), 'claude-code-'));
  const r = spawnSync('unshare', ['-n', 'bash', join(here, '..', 'claude_code.sh'), BIN, process.env.PENSIEVE_ENDING_MODEL, cli, work], {
    encoding: 'utf8',
    timeout: boundMs + 60000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  const result = JSON.parse(readFileSync(join(work, 'claude.json'), 'utf8'));
  assert.equal(result.is_error, false, out);
  assert.equal(result.type, 'result');
  // The server saw Claude Code's real request: a large prompt with its tools.
  const log = readFileSync(join(work, 'serve.err'), 'utf8');
  const m = log.match(/POST \/v1\/messages 200 (?:model=\S+ )?in=(\d+)/);
  assert.ok(m, log);
  assert.ok(Number(m[1]) > 5000, `Claude Code's prompt was only ${m[1]} tokens`);
  // The ending model answers in a few tokens, ended by EOS: Claude Code reports end_turn.
  assert.equal(result.stop_reason, 'end_turn', out);
  const turn = out.match(/claude turn: (\d+) ms/);
  console.log(`# Claude Code's turn took ${turn?.[1]} ms for a ${m[1]}-token prompt (bound ${boundMs} ms)`);
});
