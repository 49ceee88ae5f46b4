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

// The tiny model has random weights: its text is gibberish, but greedy decoding (temperature 0) is
// deterministic, so every path that should give the same tokens is compared with another, and
// the finish reasons and counts are exact. Its GPT-2 vocabulary has no <|im_start|> token, so the
// Qwen template's markers are plain text and a rendered prompt can be sent as a legacy completion.
const qwen = (turns) => turns.map(([role, text]) => `<|im_start|>${role}\n${text}<|im_end|>\n`).join('') + '<|im_start|>assistant\n';

test('chat completion: exact finish_reason and usage, same text as the legacy completion of its prompt', opts, async () => {
  const r = await client.chat.completions.create({
    model: 'tiny',
    max_tokens: 6,
    temperature: 0,
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }],
    response_format: { type: 'text' },
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'tiny');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  // Random weights: no EOS in 6 greedy tokens (deterministic; checked when this test was written).
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 6);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 6);
  const raw = await client.completions.create({ model: 'tiny', prompt: qwen([['system', 'Be brief.'], ['user', 'Hi!']]), max_tokens: 6, temperature: 0 });
  assert.equal(r.usage.prompt_tokens, raw.usage.prompt_tokens);
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].message.content, raw.choices[0].text);
});

test('chat stream with include_usage: usage chunk last, deltas give the non-streamed text', opts, async () => {
  const body = { model: 'tiny', max_completion_tokens: 8, temperature: 0, messages: [{ role: 'user', content: 'Tell me something.' }] };
  const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  let first = true;
  let afterUsage = 0;
  for await (const chunk of stream) {
    if (first) { assert.equal(chunk.choices[0].delta.role, 'assistant'); first = false; }
    if (usage) afterUsage++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 8);
  assert.equal(afterUsage, 0);
  const whole = await client.chat.completions.create(body);
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
});

test('repeated prompt reports cached_tokens', opts, async () => {
  const messages = [{ role: 'user', content: 'Lorem ipsum dolor sit amet. '.repeat(30) }];
  await client.chat.completions.create({ model: 'tiny', max_tokens: 1, messages });
  const r = await client.chat.completions.create({ model: 'tiny', max_tokens: 1, messages });
  // Whole 16-token KV blocks are shared, leaving at least 8 tokens to compute: at most 23.
  assert.ok(r.usage.prompt_tokens_details.cached_tokens >= r.usage.prompt_tokens - 23, JSON.stringify(r.usage));
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
  // Random weights write no tool call in 4 tokens: the answer is text cut at max_tokens.
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 4);
  assert.equal(r.choices[0].message.tool_calls, undefined);
});

test('a named tool_choice instructs the model to call that tool; none hides the tools', opts, async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const messages = [{ role: 'user', content: 'Weather in Paris?' }];
  const usage = async (tool_choice) => (await client.chat.completions.create({ model: 'tiny', max_tokens: 1, temperature: 0, tools, tool_choice, messages })).usage.prompt_tokens;
  const auto = await usage('auto');
  const named = await usage({ type: 'function', function: { name: 'get_weather' } });
  const none = await usage('none');
  const plain = (await client.chat.completions.create({ model: 'tiny', max_tokens: 1, messages })).usage.prompt_tokens;
  // The instruction 'You must answer by calling the tool "get_weather".' becomes the system turn,
  // in place of the Qwen template's default system text (written only when there is none).
  const count = async (prompt) => (await client.completions.create({ model: 'tiny', prompt, max_tokens: 1 })).usage.prompt_tokens;
  const extra = await count('You must answer by calling the tool "get_weather".') - await count('You are Qwen, created by Alibaba Cloud. You are a helpful assistant.');
  assert.ok(Math.abs(named - auto - extra) <= 1, `named ${named} auto ${auto} extra ${extra}`);
  assert.equal(none, plain);
  await assert.rejects(client.chat.completions.create({ model: 'tiny', max_tokens: 1, tools, tool_choice: { type: 'function', function: {} }, messages }),
    (e) => e.status === 400 && e.error.type === 'invalid_request_error');
});

test('stop as an array: the earliest match ends the text, finish_reason stop', opts, async () => {
  const body = { model: 'tiny', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: 'Go on.' }] };
  const full = (await client.chat.completions.create(body)).choices[0].message.content;
  assert.ok(full.length >= 12, full);
  const early = full.slice(5, 8);
  const late = full.slice(9, 12);
  const cut = full.indexOf(early);
  const r = await client.chat.completions.create({ ...body, stop: [late, early] });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.content, full.slice(0, Math.min(cut, full.indexOf(late))));
  const one = await client.chat.completions.create({ ...body, stop: late });
  assert.equal(one.choices[0].message.content, full.slice(0, full.indexOf(late)));
});

test('response_format json_object / json_schema asks for JSON through the system turn', opts, async () => {
  const messages = [{ role: 'user', content: 'Weather?' }];
  const tokens = async (response_format) => (await client.chat.completions.create({ model: 'tiny', max_tokens: 1, temperature: 0, messages, response_format })).usage.prompt_tokens;
  const schema = { type: 'object', properties: { t: { type: 'number' } } };
  const hint = 'Respond with a single valid JSON object and nothing else.';
  const expected = async (system) => (await client.completions.create({ model: 'tiny', prompt: qwen([['system', system], ['user', 'Weather?']]), max_tokens: 1 })).usage.prompt_tokens;
  assert.equal(await tokens({ type: 'json_object' }), await expected(hint));
  assert.equal(await tokens({ type: 'json_schema', json_schema: { name: 'w', schema } }),
    await expected(`${hint} It must match this JSON schema: ${JSON.stringify(schema)}`));
  assert.equal(await tokens({ type: 'text' }), await tokens(undefined));
});

test('legacy completions, stream and non-stream', opts, async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 5);
  assert.equal(r.usage.prompt_tokens, 4);  // GPT-2 BPE: "Once", " upon", " a", " time"
  const stream = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 5, temperature: 0, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) { text += c.text; finish = c.finish_reason ?? finish; }
  }
  assert.equal(text, r.choices[0].text);
  assert.equal(finish, 'length');
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
