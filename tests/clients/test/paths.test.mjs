// HTTP paths of `pensieve serve` that no other test reaches, through the real binary: 503 while
// the model loads and a failed load, invalid JSON, 404/405 bodies, a port already taken, a client
// leaving a non-streaming request, job streams (keep-alive, disconnect, full queue), a template
// that refuses the system role (Gemma 2), and the ChatML fallback for an unparsable template.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, MODEL, READY, readSse, sleep, startServer } from './helpers.mjs';

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };
const WORK = process.env.PENSIEVE_TEST_WORK;
const SHARED = process.env.PENSIEVE_SHARED_DIR;
const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const hello = { model: 'x', max_tokens: 2, messages: [{ role: 'user', content: 'Hello' }] };

// A tiny model with another chat template (generated once per file, into the run's temp folder).
function modelWithTemplate(name, templatePath) {
  const out = join(WORK, `${name}.gguf`);
  const r = spawnSync('/usr/bin/python3', [join(SHARED, 'tools', 'gen_model.py'), '--shape', 'tiny-qwen2', '--chat-template', templatePath, '--out', out, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

let gemma;
let broken;
before(() => {
  if (!READY) return;
  gemma = modelWithTemplate('tiny-gemma2', join(SHARED, 'fixtures', 'chat-templates', 'google-gemma-2-2b-it.jinja'));
  const brokenTemplate = join(WORK, 'broken.jinja');
  writeFileSync(brokenTemplate, '{% for message in messages %}{{ message.content ');  // never closed
  broken = modelWithTemplate('tiny-broken-template', brokenTemplate);
});

test('while the model loads: 503 with retry-after in each API shape; a failed load exits 1', opts, async () => {
  // The "model" is a FIFO: the loader blocks in open() until something writes to it.
  const fifo = join(WORK, 'loading.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const server = await startServer([], {}, { model: fifo, waitReady: false });
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 503);
  assert.equal((await health.json()).status, 'loading');
  const a = await fetch(`${server.url}/v1/messages`, json(hello));
  assert.equal(a.status, 503);
  assert.equal(a.headers.get('retry-after'), '1');
  assert.deepEqual(await a.json(), { type: 'error', error: { type: 'api_error', message: 'the model is still loading' } });
  const o = await fetch(`${server.url}/v1/chat/completions`, json(hello));
  assert.equal(o.status, 503);
  const oe = (await o.json()).error;
  assert.equal(oe.message, 'the model is still loading');
  // Now a writer opens the FIFO: the loader's open() returns, the "file" is not a regular GGUF
  // file, the load fails and serve exits 1.
  closeSync(openSync(fifo, 'w'));
  const [code] = await once(server.proc, 'exit');
  assert.equal(code, 1);
  assert.match(server.log(), /pensieve: cannot load .*loading\.fifo/);
});

test('an invalid JSON body is a 400 in each API shape', opts, async () => {
  const server = await startServer();
  try {
    const a = await fetch(`${server.url}/v1/messages`, json('{"model": "x", "messages": ['));
    assert.equal(a.status, 400);
    assert.deepEqual(await a.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'the request body is not valid JSON' } });
    const o = await fetch(`${server.url}/v1/chat/completions`, json('not json'));
    assert.equal(o.status, 400);
    const oe = (await o.json()).error;
    assert.equal(oe.type, 'invalid_request_error');
    assert.equal(oe.message, 'the request body is not valid JSON');
    const j = await fetch(`${server.url}/v1/jobs`, json('[1, 2'));
    assert.equal(j.status, 400);
    // Valid JSON of the wrong types: still a 400 naming the field, never a 500.
    for (const [path, body, field] of [
      ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'function', function: { name: 7 } } }, /tool_choice/],
      ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 5 } }, /response_format/],
      ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: 'nope' } }, /response_format\.json_schema/],
    ]) {
      const r = await fetch(`${server.url}${path}`, json({ max_tokens: 1, ...body }));
      const b = await r.json();
      if (field) {
        assert.equal(r.status, 400, JSON.stringify(b));
        assert.match(b.error.message, field);
      } else {
        assert.equal(r.status, 200, JSON.stringify(b));
      }
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// Sends raw bytes; resolves with the first response (headers + Content-Length bytes of body).
function rawHttp(port, bytes) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(bytes));
    let got = '';
    const done = () => { sock.destroy(); resolve(got); };
    sock.setTimeout(30000, done);
    sock.on('data', (d) => {
      got += d.toString();
      const end = got.indexOf('\r\n\r\n');
      const len = Number(got.match(/content-length: (\d+)/i)?.[1] ?? -1);
      if (end >= 0 && len >= 0 && got.length >= end + 4 + len) done();
    });
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
  });
}

test('unknown routes are 404, wrong methods and malformed HTTP refused, with JSON error bodies', opts, async () => {
  const server = await startServer();
  try {
    // Paths outside /v1/messages answer in OpenAI's shape, those under it in Anthropic's.
    const nf = await fetch(`${server.url}/v1/nope`);
    assert.equal(nf.status, 404);
    assert.deepEqual(await nf.json(), { error: { code: 'not_found', message: 'Not found: GET /v1/nope', param: null, type: 'invalid_request_error' } });
    const an = await fetch(`${server.url}/v1/messages/nope`, json({}));
    assert.equal(an.status, 404);
    assert.deepEqual(await an.json(), { type: 'error', error: { type: 'not_found_error', message: 'Not found: POST /v1/messages/nope' } });
    for (const [method, path] of [['PUT', '/v1/messages'], ['GET', '/v1/chat/completions'], ['DELETE', '/v1/models']]) {
      const wrong = await fetch(`${server.url}${path}`, { method });
      const body = await wrong.json();
      console.log(`# ${method} ${path}: ${wrong.status} ${JSON.stringify(body)}`);
      // A known path with another method: 405, in the shape of the path's API.
      assert.equal(wrong.status, 405);
      assert.match(JSON.stringify(body), new RegExp(`${method} ${path.replaceAll('/', '\\/')}`));
    }
    // Requests HTTP itself refuses still get a JSON error body naming what was wrong.
    const port = Number(new URL(server.url).port);
    for (const [raw, status, message] of [
      ['GARBAGE\r\n\r\n', '400 Bad Request', 'malformed HTTP request: bad method'],
      ['GET /health HTTP/9.9\r\n\r\n', '400 Bad Request', 'malformed HTTP request: bad version'],
      [`GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Long: ${'a'.repeat(70000)}\r\n\r\n`, '431 Request Header Fields Too Large',
        'request header fields too large'],
    ]) {
      const reply = await rawHttp(port, raw);
      assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status}\r\n`), raw.slice(0, 30));
      assert.equal(reply.slice(reply.indexOf('\r\n\r\n') + 4),
        JSON.stringify({ error: { code: null, message, param: null, type: 'invalid_request_error' } }));
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a port already in use: serve exits 1 saying it cannot listen', opts, async () => {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  try {
    const port = String(holder.address().port);
    const r = spawnSync(BIN, ['serve', '-m', MODEL, '--port', port], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  } finally {
    holder.close();
  }
});

// Waits (event-based: the server's own gauges, no fixed sleep) until the single engine slot
// (--parallel 1) is taken; polling with requests of our own could take the slot first.
async function untilBusy(server) {
  for (const t0 = Date.now(); Date.now() - t0 < 60000; await sleep(20)) {
    const m = await (await fetch(`${server.url}/metrics`)).text();
    if (/^pensieve_queue_running 1$/m.test(m)) {
      const r = await fetch(`${server.url}/v1/messages`, json({ ...hello, max_tokens: 1 }));
      assert.equal(r.status, 529);  // and the queue (--max-queue 0) refuses the next one
      return;
    }
  }
  assert.fail('the engine never became busy');
}

test('a client leaving a non-streaming request: its generation is cancelled and the engine freed', opts, async () => {
  const server = await startServer(['--max-queue', '0', '--parallel', '1']);
  try {
    const controller = new AbortController();
    const pending = fetch(`${server.url}/v1/messages`, { ...json({ ...hello, max_tokens: 60000, ignore_eos: true }), signal: controller.signal })
      .catch((e) => e);
    await untilBusy(server);
    const t0 = Date.now();
    controller.abort();
    assert.equal((await pending).name, 'AbortError');
    while (!/499 \d+ms cancelled: client disconnected/.test(server.log()) && Date.now() - t0 < 60000) await sleep(20);
    console.log(`# the server cancelled the abandoned request after ${Date.now() - t0} ms`);
    assert.match(server.log(), /POST \/v1\/messages 499 \d+ms cancelled: client disconnected/);
    const next = await fetch(`${server.url}/v1/messages`, json(hello));
    assert.equal(next.status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// Reads a raw SSE body until `until(text)` holds; returns the text (the reader stays open).
async function readUntil(response, until) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { text, reader };
}

test('jobs: a full queue refuses creation, a waiting job stream sends keep-alives, a stream can be left', opts, async () => {
  const server = await startServer(['--max-queue', '1', '--ping-interval-ms', '100', '--parallel', '1']);
  try {
    const endless = { prompt: 'Once', max_tokens: 60000, ignore_eos: true };
    const a = await (await fetch(`${server.url}/v1/jobs`, json(endless))).json();
    // a runs (its state says so); the queue has room for one more.
    for (const t0 = Date.now(); Date.now() - t0 < 60000; await sleep(20)) {
      if ((await (await fetch(`${server.url}/v1/jobs/${a.id}`)).json()).state === 'running') break;
    }
    const bRes = await fetch(`${server.url}/v1/jobs`, json(endless));
    assert.equal(bRes.status, 202);
    const b = await bRes.json();
    assert.equal(b.state, 'queued');
    const full = await fetch(`${server.url}/v1/jobs`, json(endless));
    assert.equal(full.status, 429);
    assert.equal((await full.json()).error.type, 'rate_limit_error');

    // b waits behind a: its stream has no events, only keep-alive comments.
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/v1/jobs/${b.id}/stream`, { signal: controller.signal });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    const { text } = await readUntil(stream, (t) => (t.match(/^: ping$/gm) || []).length >= 2);
    assert.equal(text.replace(/^: ping\n\n/gm, ''), '', `only keep-alives while queued: ${JSON.stringify(text)}`);
    controller.abort();  // leave the stream: the job itself goes on
    await sleep(300);
    assert.equal((await (await fetch(`${server.url}/v1/jobs/${b.id}`)).json()).state, 'queued');

    for (const id of [b.id, a.id]) assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 200);
    const done = await fetch(`${server.url}/v1/jobs/${a.id}/stream`);
    const all = await done.text();  // ends at the terminal event
    assert.match(all, /event: done\n.*"state":"cancelled"/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a template that refuses the system role (Gemma 2) serves system prompts through both APIs', opts, async () => {
  const server = await startServer([], {}, { model: gemma });
  try {
    const a = await fetch(`${server.url}/v1/messages`, json({ ...hello, temperature: 0, system: 'Be brief.' }));
    const ab = await a.json();
    assert.equal(a.status, 200, JSON.stringify(ab));
    const o = await fetch(`${server.url}/v1/chat/completions`, json({
      model: 'x', max_tokens: 2, temperature: 0, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }],
    }));
    const ob = await o.json();
    assert.equal(o.status, 200, JSON.stringify(ob));
    // Both are the same prompt: the system text folded into the first user turn, as rendered by
    // hand here ("<|endoftext|>" is the GPT-2 vocabulary's BOS, which the template writes first).
    const folded = '<|endoftext|><start_of_turn>user\nBe brief.\nHello<end_of_turn>\n<start_of_turn>model\n';
    const raw = await (await fetch(`${server.url}/v1/completions`, json({ model: 'x', prompt: folded, max_tokens: 2, temperature: 0 }))).json();
    assert.equal(ab.usage.input_tokens + ab.usage.cache_read_input_tokens, raw.usage.prompt_tokens);
    assert.equal(ob.usage.prompt_tokens, raw.usage.prompt_tokens);
    assert.equal(ab.content[0].text, raw.choices[0].text);
    assert.equal(ob.choices[0].message.content, raw.choices[0].text);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('an unparsable chat template: a warning at startup, and ChatML renders the requests', opts, async () => {
  const server = await startServer([], {}, { model: broken });
  try {
    assert.match(server.log(), /warning: the model's chat template does not parse \(.*\); using ChatML/);
    const r = await (await fetch(`${server.url}/v1/chat/completions`, json({ ...hello, temperature: 0 }))).json();
    const chatml = '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n';
    const raw = await (await fetch(`${server.url}/v1/completions`, json({ model: 'x', prompt: chatml, max_tokens: 2, temperature: 0 }))).json();
    assert.equal(r.usage.prompt_tokens, raw.usage.prompt_tokens);
    assert.equal(r.choices[0].message.content, raw.choices[0].text);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('an error event mid-stream: a stream still waiting in the queue at shutdown ends with an SSE error', opts, async () => {
  const server = await startServer(['--max-queue', '4', '--parallel', '1']);
  const body = { model: 'c', max_tokens: 60000, ignore_eos: true, stream: true, messages: [{ role: 'user', content: 'go' }] };
  const running = [];
  const waiting = [];
  const a = readSse(await fetch(`${server.url}/v1/messages`, json(body)), (ev) => { running.push(ev); }).catch(() => {});
  for (const t0 = Date.now(); running.length < 3 && Date.now() - t0 < 60000;) await sleep(10);  // a is generating
  const b = readSse(await fetch(`${server.url}/v1/messages`, json(body)), (ev) => { waiting.push(ev); }).catch(() => {});
  for (const t0 = Date.now(); waiting.length < 1 && Date.now() - t0 < 60000;) await sleep(10);  // b's stream started
  assert.equal(waiting[0].event, 'message_start');
  assert.equal(await server.stop('SIGTERM'), 0);
  await Promise.all([a, b]);
  // b never reached the engine: after its message_start comes one error event, and nothing else.
  assert.deepEqual(waiting.map((e) => e.event), ['message_start', 'error']);
  assert.deepEqual(JSON.parse(waiting[1].data).error.type, 'overloaded_error');
  // a was cut short: it ends with an error event too, never as a normal stop.
  assert.equal(running.at(-1).event, 'error');
  assert.equal(JSON.parse(running.at(-1).data).error.type, 'overloaded_error');
  assert.ok(!running.some((e) => e.event === 'message_stop'));
});

// Every field of a valid request of each endpoint, replaced in turn by a value of each JSON type:
// the answer is a 2xx or a 4xx, never a 500. (It found 18 fields whose wrong type reached
// nlohmann::json's type_error and came back as "500 internal error".)
test('valid JSON of the wrong types in any field: never a 500', opts, async () => {
  const base = {
    '/v1/messages': {
      model: 'x', max_tokens: 2, system: 's', stop_sequences: ['a'], temperature: 0.5, top_p: 0.9, top_k: 3, metadata: { user_id: 'u' },
      tools: [{ name: 't', description: 'd', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 't' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'i', name: 't', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'i', content: 'ok' }] },
      ],
    },
    '/v1/messages/count_tokens': { model: 'x', messages: [{ role: 'user', content: 'hi' }], system: [{ type: 'text', text: 's' }] },
    '/v1/chat/completions': {
      model: 'x', max_tokens: 2, stop: ['a'], seed: 1, temperature: 0.5, stream_options: { include_usage: true },
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: {} } },
      tools: [{ type: 'function', function: { name: 't', parameters: {} } }], tool_choice: { type: 'function', function: { name: 't' } },
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 't', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'ok' },
      ],
    },
    '/v1/completions': { model: 'x', prompt: 'hi', max_tokens: 2, stop: 'a', echo: false },
    '/v1/jobs': { kind: 'generate', prompt: 'hi', max_tokens: 2 },
  };
  const wrong = [null, 5, 1.5, 'str', true, [], [1], {}, { a: 1 }];
  const paths = (o, p = []) => [p, ...(o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => paths(v, [...p, k])) : [])];
  const replaced = (o, p, v) => {
    const copy = structuredClone(o);
    let cur = copy;
    for (const k of p.slice(0, -1)) cur = cur[k];
    cur[p.at(-1)] = v;
    return copy;
  };
  const server = await startServer(['--ctx', '2048', '--quiet']);
  try {
    const fives = [];
    let n = 0;
    for (const [path, body] of Object.entries(base)) {
      for (const p of paths(body).slice(1)) {
        for (const v of wrong) {
          const r = await fetch(`${server.url}${path}`, json(replaced(body, p, v)));
          const text = await r.text();
          n++;
          if (r.status >= 500) fives.push(`${path} ${p.join('.')}=${JSON.stringify(v)}: ${r.status} ${text.slice(0, 160)}`);
        }
      }
    }
    console.log(`# ${n} requests with a wrong-typed field`);
    assert.deepEqual(fives, []);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
