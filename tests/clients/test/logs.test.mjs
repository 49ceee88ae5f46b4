// Operator logs of the real `pensieve serve`: request ids that the official SDKs read back
// (Anthropic's `request-id`, OpenAI's `x-request-id`) and that the access log line shows, the
// text and JSON formats, the one startup summary, and nothing at all on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { READY, sleep, startServer } from './helpers.mjs';

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function waitForLog(server, re, ms = 10000) {
  const t0 = Date.now();
  while (!re.test(server.log()) && Date.now() - t0 < ms) await sleep(20);
  assert.match(server.log(), re);
}

test('logs: JSON lines with time, client, request id (the SDKs read it back), model, tokens; one startup summary', opts, async () => {
  const server = await startServer(['--log-format', 'json', '--api-key', 'k', '-np', '2', '-t', '1', '--alias', 'tiny']);
  try {
    await waitForLog(server, /"event":"ready"/);
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'k', maxRetries: 0 });
    const msg = await anthropic.messages.create({ model: 'tiny', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
    assert.match(msg._request_id, /^req_[0-9a-f]{24}$/);
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const chat = await openai.chat.completions.create({ model: 'tiny', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] });
    assert.match(chat._request_id, /^req_[0-9a-f]{24}$/);
    assert.notEqual(chat._request_id, msg._request_id);
    // A client's own well-formed id is kept; a malformed one is replaced.
    const own = await fetch(`${server.url}/v1/models`, { headers: { authorization: 'Bearer k', 'x-request-id': 'trace-42.a:b_c' } });
    assert.equal(own.headers.get('request-id'), 'trace-42.a:b_c');
    assert.equal(own.headers.get('x-request-id'), 'trace-42.a:b_c');
    const bad = await fetch(`${server.url}/v1/models`, { headers: { authorization: 'Bearer k', 'request-id': 'x'.repeat(129) } });
    assert.match(bad.headers.get('request-id'), /^req_[0-9a-f]{24}$/);
    // Errors carry one too: refused keys, unknown paths, malformed bodies.
    const denied = await fetch(`${server.url}/v1/models`);
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get('request-id'), /^req_/);
    const missing = await fetch(`${server.url}/nope`, { headers: { authorization: 'Bearer k' } });
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('request-id'), /^req_/);

    await waitForLog(server, new RegExp(`"request_id":"${bad.headers.get('request-id')}"`));
    await waitForLog(server, /"path":"\/nope"/);
    const lines = server.log().trim().split('\n').map((l) => JSON.parse(l));  // every line is JSON
    for (const l of lines) {
      assert.match(l.time, ISO);
      assert.ok(['info', 'warning', 'error'].includes(l.level), JSON.stringify(l));
      assert.equal(typeof l.msg, 'string');
    }
    const summary = lines.filter((l) => l.event === 'ready');
    assert.equal(summary.length, 1);
    const s = summary[0];
    assert.equal(s.url, server.url);
    assert.equal(s.model, 'tiny');
    assert.equal(s.device, 'cpu');
    assert.equal(s.threads, 1);
    assert.match(s.isa, /^(scalar|avx2|avx512-vnni|avx512-vnni\+amx)$/);
    assert.equal(s.parallel, 2);
    assert.ok(s.context > 0);
    assert.equal(s.api_key, true);
    assert.equal(JSON.stringify(lines).includes('"k"'), false, 'the key itself is never logged');
    assert.equal(lines.filter((l) => l.event === 'listening').length, 1);

    const byId = (id) => lines.find((l) => l.msg === 'request' && l.request_id === id);
    const m = byId(msg._request_id);
    assert.ok(m, server.log());
    assert.equal(m.method, 'POST');
    assert.equal(m.path, '/v1/messages');
    assert.equal(m.status, 200);
    assert.equal(m.model, 'tiny');
    assert.match(m.client, /^127\.0\.0\.1:\d+$/);
    assert.equal(m.prompt_tokens, msg.usage.input_tokens);
    assert.equal(m.generated_tokens, msg.usage.output_tokens);
    assert.equal(typeof m.ttft_ms, 'number');
    assert.equal(typeof m.duration_ms, 'number');
    const c = byId(chat._request_id);
    assert.equal(c.path, '/v1/chat/completions');
    assert.equal(c.generated_tokens, chat.usage.completion_tokens);
    assert.equal(byId('trace-42.a:b_c').path, '/v1/models');
    assert.equal(byId(denied.headers.get('request-id')).status, 401);
    assert.equal(byId(missing.headers.get('request-id')).status, 404);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.equal(server.stdout(), '');
});

test('logs: text lines start with an ISO timestamp, the client and the request id; the summary names threads, ISA and key', opts, async () => {
  const server = await startServer(['-t', '1', '--alias', 'tiny', '--cors-origin', 'http://ui.test']);
  try {
    await waitForLog(server, /pensieve: model tiny .* loaded in \d+ ms; serving http:\/\/127\.0\.0\.1:\d+, 1 threads, ISA \S+, API key off, log text/);
    const r = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'request-id': 'abc-123' },
      body: JSON.stringify({ model: 'tiny', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('request-id'), 'abc-123');
    // A browser page on an allowed origin may read the id too.
    const cors = await fetch(`${server.url}/health`, { headers: { Origin: 'http://ui.test' } });
    assert.match(cors.headers.get('access-control-expose-headers'), /\brequest-id\b/);
    assert.match(cors.headers.get('request-id'), /^req_/);
    await waitForLog(server, /abc-123/);
    const line = server.log().split('\n').find((l) => l.includes(' abc-123 '));
    assert.match(line, /^pensieve: \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z 127\.0\.0\.1:\d+ abc-123 POST \/v1\/chat\/completions 200 model=tiny in=\d+ out=2 cached=\d+ ttft=[\d.]+ms [\d.]+ tok\/s \d+ms$/);
    assert.match(server.log(), /^pensieve: listening on http:\/\/127\.0\.0\.1:\d+$/m);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.equal(server.stdout(), '');
});
