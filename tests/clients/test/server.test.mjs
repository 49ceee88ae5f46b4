// Server behaviour through the SDKs and raw HTTP: auth, limits, overload, cancellation, jobs
// with resumable streams, concurrency, shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { READY, readSse, sleep, startServer } from './helpers.mjs';

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };

test('API key: 401 in each API shape for wrong keys, both header styles accepted, /health open', opts, async () => {
  const server = await startServer(['--api-key', 'sekret']);
  try {
    const wrong = new Anthropic({ baseURL: server.url, apiKey: 'nope', maxRetries: 0 });
    await assert.rejects(wrong.messages.create({ model: 'c', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 401 && e.error.error.type === 'authentication_error');
    const right = new Anthropic({ baseURL: server.url, apiKey: 'sekret', maxRetries: 0 });
    const ok = await right.messages.create({ model: 'c', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(ok.type, 'message');
    const bearer = new Anthropic({ baseURL: server.url, authToken: 'sekret', apiKey: null, maxRetries: 0 });
    assert.equal((await bearer.messages.countTokens({ model: 'c', messages: [{ role: 'user', content: 'x' }] })).input_tokens > 0, true);
    const oaWrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'nope', maxRetries: 0 });
    await assert.rejects(oaWrong.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 401 && e.error.code === 'invalid_api_key');
    const oa = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sekret', maxRetries: 0 });
    assert.ok((await oa.models.list()).data.length >= 1);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('limits: 413 for a too-large body, prompt too long in Anthropic wording, CORS only for the configured origin', opts, async () => {
  const server = await startServer(['--max-body-mb', '1', '--ctx', '256', '--cors-origin', 'http://ui.test']);
  try {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
    const huge = 'a'.repeat(2 * 1024 * 1024);
    const r = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'c', max_tokens: 1, messages: [{ role: 'user', content: huge }] }),
    });
    assert.equal(r.status, 413);
    assert.equal((await r.json()).error.type, 'request_too_large');
    await assert.rejects(client.messages.create({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'word '.repeat(400) }] }),
      (e) => e.status === 400 && /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*256 maximum/i.test(e.error.error.message));
    // max_tokens beyond the context is clamped, not refused.
    const m = await client.messages.create({ model: 'c', max_tokens: 16000, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(m.type, 'message');
    const pre = await fetch(`${server.url}/v1/messages`, { method: 'OPTIONS', headers: { Origin: 'http://ui.test', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://ui.test');
    const evil = await fetch(`${server.url}/health`, { headers: { Origin: 'http://evil.test' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// A stream that runs until cancelled: ignore_eos (a llama.cpp-style extension) + a huge max_tokens.
function endlessStream(server, controller) {
  return fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    signal: controller.signal,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'c', max_tokens: 60000, ignore_eos: true, stream: true, messages: [{ role: 'user', content: 'go' }] }),
  });
}

test('full queue: 529 overloaded_error / 429; a disconnecting client frees the engine at once', opts, async () => {
  const server = await startServer(['--max-queue', '0', '--parallel', '1']);
  try {
    const controller = new AbortController();
    const res = await endlessStream(server, controller);
    let deltas = 0;
    await readSse(res, (ev) => (ev.event === 'content_block_delta' ? ++deltas < 5 : true), { keepOpen: true });
    assert.equal(deltas, 5);
    const client = new Anthropic({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(client.messages.create({ model: 'c', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 529 && e.error.error.type === 'overloaded_error' && e.headers.get('retry-after') !== null);
    const oa = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(oa.chat.completions.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 429);
    controller.abort();  // the client goes away: its generation must stop
    // Event-based: wait for the server's own log line saying it cancelled, then the engine is free.
    const t0 = Date.now();
    while (!/cancelled: client disconnected/.test(server.log()) && Date.now() - t0 < 60000) await sleep(20);
    console.log(`# the server noticed the disconnect after ${Date.now() - t0} ms`);
    assert.match(server.log(), /cancelled: client disconnected/);
    // The engine ends the request at its next step; its slot is free once the queue says so.
    for (const t1 = Date.now(); Date.now() - t1 < 60000; await sleep(20)) {
      if (/^pensieve_queue_running 0$/m.test(await (await fetch(`${server.url}/metrics`)).text())) break;
    }
    const served = await client.messages.create({ model: 'c', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(served.type, 'message');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('job stream resumed after a forced disconnect: no event lost or repeated, also after the job ended', opts, async () => {
  const server = await startServer();
  try {
    const created = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'generate', messages: [{ role: 'user', content: 'Write.' }], max_tokens: 40, ignore_eos: true }),
    });
    assert.equal(created.status, 202);
    const { id } = await created.json();
    const seen = [];
    const c1 = new AbortController();
    const r1 = await fetch(`${server.url}/v1/jobs/${id}/stream`, { signal: c1.signal });
    await readSse(r1, (ev) => { seen.push(ev); return seen.length < 6; });  // then drop the connection
    c1.abort();
    await sleep(300);  // the job keeps running while nobody listens
    const r2 = await fetch(`${server.url}/v1/jobs/${id}/stream`, { headers: { 'Last-Event-ID': seen.at(-1).id } });
    await readSse(r2, (ev) => { seen.push(ev); });
    const ids = seen.map((e) => Number(e.id));
    assert.deepEqual(ids, ids.map((_, i) => i + 1), 'event ids must be 1..N without gaps or repeats');
    const done = seen.at(-1);
    assert.equal(done.event, 'done');
    const result = JSON.parse(done.data).result;
    const tokens = seen.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data).text).join('');
    assert.equal(tokens, result.text);
    assert.equal(result.usage.completion_tokens, 40);
    // Resuming after the end replays exactly the missed tail.
    const r3 = await fetch(`${server.url}/v1/jobs/${id}/stream`, { headers: { 'Last-Event-ID': String(ids.length - 2) } });
    const tail = [];
    await readSse(r3, (ev) => { tail.push(Number(ev.id)); });
    assert.deepEqual(tail, [ids.length - 1, ids.length]);
    const job = await (await fetch(`${server.url}/v1/jobs/${id}`)).json();
    assert.equal(job.state, 'succeeded');
    assert.equal(job.progress.generated_tokens, 40);
    // Cancelling a running job.
    const long = await (await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Once', max_tokens: 60000, ignore_eos: true }),
    })).json();
    await sleep(200);
    assert.equal((await fetch(`${server.url}/v1/jobs/${long.id}`, { method: 'DELETE' })).status, 200);
    // The job's own stream ends with its terminal event: no polling deadline to tune.
    const t1 = Date.now();
    const events = [];
    await readSse(await fetch(`${server.url}/v1/jobs/${long.id}/stream`), (ev) => { events.push(ev); });
    console.log(`# the cancelled job's stream ended after ${Date.now() - t1} ms`);
    assert.equal(events.at(-1).event, 'done');
    assert.equal(JSON.parse(events.at(-1).data).state, 'cancelled');
    assert.equal((await (await fetch(`${server.url}/v1/jobs/${long.id}`)).json()).state, 'cancelled');
    assert.equal((await fetch(`${server.url}/v1/jobs/job_nope`)).status, 404);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('concurrent clients of both SDKs all get complete answers', opts, async () => {
  const server = await startServer(['--max-queue', '64']);
  try {
    const a = new Anthropic({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
    const o = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const jobs = [];
    for (let i = 0; i < 8; i++) {
      const content = `Request number ${i}.`;
      if (i % 2) jobs.push(a.messages.create({ model: 'c', max_tokens: 6, ignore_eos: true, messages: [{ role: 'user', content }] }).then((m) => m.usage.output_tokens));
      else jobs.push(o.chat.completions.create({ model: 'm', max_tokens: 6, ignore_eos: true, messages: [{ role: 'user', content }] }).then((r) => r.usage.completion_tokens));
    }
    const outputs = await Promise.all(jobs);
    assert.deepEqual(outputs, Array(8).fill(6));
    // A request is counted when its response has been written, which can be a moment after the
    // client has read it: wait for the counters (bounded), then check them.
    let metrics = '';
    for (const t0 = Date.now(); Date.now() - t0 < 10000; await sleep(20)) {
      metrics = await (await fetch(`${server.url}/metrics`)).text();
      if (/pensieve_requests_total\{endpoint="\/v1\/messages",status="200"\} 4/.test(metrics) &&
          /pensieve_requests_total\{endpoint="\/v1\/chat\/completions",status="200"\} 4/.test(metrics)) break;
    }
    assert.match(metrics, /pensieve_requests_total\{endpoint="\/v1\/messages",status="200"\} 4/);
    assert.match(metrics, /pensieve_generated_tokens_total 48/);
    assert.match(metrics, /pensieve_process_resident_memory_bytes [1-9]/);
    // The kept sequence: some request's prompt and all its output but the last token.
    const kv = Number(metrics.match(/^pensieve_kv_cache_tokens (\d+)$/m)?.[1]);
    const cap = Number(metrics.match(/^pensieve_kv_cache_capacity_tokens (\d+)$/m)?.[1]);
    assert.ok(kv > 5 && kv < cap, `kv ${kv} of ${cap}`);
    // Where the engine's time went: 48 generated tokens took forward passes and host work.
    const fwd = Number(metrics.match(/^pensieve_engine_forward_seconds_total ([\d.]+)$/m)?.[1]);
    const host = Number(metrics.match(/^pensieve_engine_host_seconds_total ([\d.]+)$/m)?.[1]);
    assert.ok(fwd > 0 && host > 0 && fwd < 600 && host < 600, `forward ${fwd} s, host ${host} s`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('SIGTERM during a stream: the stream ends, the server exits 0 within seconds', opts, async () => {
  const server = await startServer();
  const controller = new AbortController();
  const res = await endlessStream(server, controller);
  let events = 0;
  const reading = readSse(res, () => { events++; }).catch(() => {});
  for (const t0 = Date.now(); events < 3 && Date.now() - t0 < 60000;) await sleep(10);  // generating
  const t0 = Date.now();
  const code = await server.stop('SIGTERM');
  assert.equal(code, 0);
  console.log(`# shutdown during a stream took ${Date.now() - t0} ms`);
  assert.ok(Date.now() - t0 < 60000, `shutdown took ${Date.now() - t0} ms`);
  await reading;
  assert.ok(events > 1);
});
