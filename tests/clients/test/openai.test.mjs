// The official OpenAI SDK against `pensieve serve`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { READY, startServer } from './helpers.mjs';

let server;
let client;

before(async () => {
  if (!READY) return;
  server = await startServer(['--alias', 'tiny', '--alias', 'tiny-chat']);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => { if (server) assert.equal(await server.stop(), 0); });

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };

test('chat completion: message, finish_reason, usage', opts, async () => {
  const r = await client.chat.completions.create({
    model: 'tiny',
    max_tokens: 6,
    seed: 42,
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }],
    response_format: { type: 'text' },
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'tiny');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.ok(r.usage.completion_tokens <= 6);
});

test('chat stream with include_usage ends with a usage chunk, text matches the deltas', opts, async () => {
  const stream = await client.chat.completions.create({
    model: 'tiny',
    max_completion_tokens: 8,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Tell me something.' }],
  });
  let text = '';
  let finish = null;
  let usage = null;
  let first = true;
  for await (const chunk of stream) {
    if (first) { assert.equal(chunk.choices[0].delta.role, 'assistant'); first = false; }
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(finish);
  assert.ok(usage && usage.completion_tokens >= 1);
  assert.equal(typeof text, 'string');
});

test('repeated prompt reports cached_tokens', opts, async () => {
  const messages = [{ role: 'user', content: 'Lorem ipsum dolor sit amet. '.repeat(30) }];
  await client.chat.completions.create({ model: 'tiny', max_tokens: 1, messages });
  const r = await client.chat.completions.create({ model: 'tiny', max_tokens: 1, messages });
  // Whole 16-token KV blocks are shared: at most 16 prompt tokens are recomputed.
  assert.ok(r.usage.prompt_tokens_details.cached_tokens >= r.usage.prompt_tokens - 16, JSON.stringify(r.usage));
});

test('tools and tool history are accepted', opts, async () => {
  const r = await client.chat.completions.create({
    model: 'tiny',
    max_tokens: 4,
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    tool_choice: 'auto',
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ],
  });
  assert.ok(['stop', 'length', 'tool_calls'].includes(r.choices[0].finish_reason));
});

test('legacy completions, stream and non-stream', opts, async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 5 });
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0].text, 'string');
  assert.equal(r.usage.completion_tokens, r.choices[0].finish_reason === 'length' ? 5 : r.usage.completion_tokens);
  const stream = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 3, stream: true });
  let n = 0;
  for await (const chunk of stream) n += chunk.choices.length;
  assert.ok(n >= 1);
});

test('models list has the aliases', opts, async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['tiny', 'tiny-chat']);
  const m = await client.models.retrieve('tiny-chat');
  assert.equal(m.id, 'tiny-chat');
});

test('errors in OpenAI shape: n>1, bad temperature, image parts', opts, async () => {
  const bad = async (body, pattern) => {
    await assert.rejects(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], ...body }), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.error.type, 'invalid_request_error');
      assert.match(e.error.message, pattern);
      return true;
    });
  };
  await bad({ n: 2 }, /n=1/);
  await bad({ temperature: 3 }, /temperature/);
  await bad({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] }, /image_url/);
});
