// Constrained decoding through the official SDKs: every reply of the random-weight test model,
// sampled at temperature 1, must parse and validate (ajv) against the schema it was given, for
// response_format json_schema over 60 schemas x 3 seeds and over a held-out set of 113 real-world
// schemas x 3 seeds, forced tool calls (Anthropic and OpenAI, Claude Code's own 23 tool schemas
// among them), tool_choice none, GBNF grammars (llama.cpp-style ones too), and the 400 an
// unsupported keyword gets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { READY, startServer } from './helpers.mjs';

let server;
let openai;
let anthropic;

before(async () => {
  if (!READY) return;
  server = await startServer(['--alias', 'tiny', '--ctx', '32768']);  // Claude Code's 23 tools are ~19k tokens
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
});
after(async () => { if (server) assert.equal(await server.stop(), 0); });

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };

// Draft 4's boolean exclusiveMinimum / exclusiveMaximum in the numeric form later drafts use.
function fromDraft4(s) {
  if (Array.isArray(s)) return s.map(fromDraft4);
  if (s === null || typeof s !== 'object') return s;
  const out = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, fromDraft4(v)]));
  for (const [ex, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']]) {
    if (typeof out[ex] !== 'boolean') continue;
    if (out[ex]) { out[ex] = out[bound]; delete out[bound]; } else delete out[ex];
  }
  return out;
}

// The draft the schema names (draft 7's validator for drafts 4 to 7: tuples as `items: [...]`),
// else 2020-12.
function validator(schema) {
  const { $schema, ...rest } = schema;
  const old = /draft-0[4-7]/.test($schema ?? '');
  const ajv = old ? new Ajv({ strict: false, allErrors: true, validateFormats: true }) : new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv.compile(old ? fromDraft4(rest) : rest);
}

function check(schema, text, what) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    assert.fail(`${what}: not JSON: ${e.message}\n${text}`);
  }
  const validate = validator(schema);
  assert.ok(validate(doc), `${what}: ${JSON.stringify(validate.errors)}\n${text}\nschema: ${JSON.stringify(schema)}`);
}

// Hand-written schemas covering every supported keyword...
const HAND = [
  { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0, maximum: 130 } }, required: ['name', 'age'], additionalProperties: false },
  { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 5 },
  { type: 'object', properties: { when: { type: 'string', format: 'date-time' }, day: { type: 'string', format: 'date' }, id: { type: 'string', format: 'uuid' }, mail: { type: 'string', format: 'email' } }, required: ['when', 'day', 'id', 'mail'] },
  { enum: ['red', 'green', 'blue', 42, null, true] },
  { const: { fixed: [1, 'two'] } },
  { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'integer', exclusiveMinimum: 10, exclusiveMaximum: 20 }] },
  { oneOf: [{ type: 'object', properties: { kind: { const: 'a' }, x: { type: 'integer' } }, required: ['kind', 'x'], additionalProperties: false },
            { type: 'object', properties: { kind: { const: 'b' }, y: { type: 'boolean' } }, required: ['kind', 'y'], additionalProperties: false }] },
  { $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 2 } }, required: ['v'], additionalProperties: false } }, $ref: '#/$defs/node' },
  { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{2}-[0-9]{2,4}$' }, slug: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' } }, required: ['code', 'slug'] },
  { type: 'object', properties: { s: { type: 'string', minLength: 2, maxLength: 6 }, n: { type: 'number', minimum: -1.5, maximum: 2.5 } }, required: ['s', 'n'] },
  { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
  { type: 'array', prefixItems: [{ type: 'string' }, { type: 'boolean' }], items: false, minItems: 2 },
  { type: ['string', 'null'] },
  { type: 'object', properties: { tags: { type: 'array', items: { enum: ['x', 'y', 'z'] }, maxItems: 3 }, meta: { type: 'object', properties: { ip: { type: 'string', format: 'ipv4' } } } } },
  { allOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { properties: { b: { type: 'string' } }, required: ['b'] }] },
  { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, anyOf: [{ required: ['a'] }, { required: ['b'] }], additionalProperties: false },
  { type: 'object', properties: { u: { type: 'string', format: 'uri' }, t: { type: 'string', format: 'time' } }, required: ['u', 't'] },
  { type: 'integer', minimum: -1000000, maximum: -999 },
  { type: 'object', properties: { deep: { type: 'object', properties: { deeper: { type: 'object', properties: { deepest: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 2 } }, required: ['deepest'] } }, required: ['deeper'] } }, required: ['deep'] },
  { description: 'any JSON object', type: 'object' },
  { oneOf: [{ type: 'object', properties: { a: { type: 'integer' } } }, { type: 'object', properties: { b: { type: 'string' } }, required: ['b'] }, { type: 'integer' }, { type: 'number' }] },
  { type: 'object', properties: { h: { type: 'string', format: 'hostname' }, v6: { type: 'string', format: 'ipv6' }, d: { type: 'string', format: 'duration' },
    u: { type: 'string', format: 'url' }, p: { type: 'string', format: 'json-pointer' }, b: { type: 'string', format: 'byte' } }, required: ['h', 'v6', 'd', 'u', 'p', 'b'] },
  { type: 'object', properties: { n32: { type: 'integer', format: 'int32' }, n64: { type: 'integer', format: 'int64' }, f: { type: 'number', format: 'double' },
    list: { type: 'array', items: { type: 'integer' }, uniqueItems: false } }, required: ['n32', 'n64', 'f', 'list'], minProperties: 2, maxProperties: 4 },
];

// ...and random ones (a seeded generator), 60 in all.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
function randomSchema(r, depth = 0) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const kinds = depth >= 3 ? ['string', 'integer', 'number', 'boolean', 'enum'] : ['string', 'integer', 'number', 'boolean', 'enum', 'array', 'object', 'object', 'anyOf', 'null'];
  switch (pick(kinds)) {
    case 'string': {
      const s = { type: 'string' };
      const v = r();
      if (v < 0.2) s.maxLength = 1 + Math.floor(r() * 8);
      else if (v < 0.3) s.minLength = 1 + Math.floor(r() * 3);
      else if (v < 0.45) s.format = pick(['date', 'date-time', 'uuid', 'email', 'ipv4', 'time']);
      else if (v < 0.55) s.pattern = pick(['^[a-f0-9]{4,8}$', '^(yes|no|maybe)$', '^\\d+\\.\\d{2}$', '^[A-Z][a-z]*( [A-Z][a-z]*)*$']);
      return s;
    }
    case 'integer': {
      const s = { type: 'integer' };
      if (r() < 0.6) s.minimum = Math.floor(r() * 200) - 100;
      if (r() < 0.6) s.maximum = (s.minimum ?? -100) + Math.floor(r() * 5000);
      return s;
    }
    case 'number': {
      const s = { type: 'number' };
      if (r() < 0.5) s.minimum = Math.round((r() * 10 - 5) * 4) / 4;
      if (r() < 0.5) s.exclusiveMaximum = (s.minimum ?? -5) + 1 + Math.floor(r() * 20);
      return s;
    }
    case 'boolean': return { type: 'boolean' };
    case 'null': return { type: 'null' };
    case 'enum': return { enum: Array.from({ length: 2 + Math.floor(r() * 6) }, (_, i) => pick([`opt_${i}`, i * 7, `word ${i}`, i % 2 === 0, `v${i}-"q"`])) };
    case 'array': {
      const s = { type: 'array', items: randomSchema(r, depth + 1) };
      if (r() < 0.5) s.maxItems = 1 + Math.floor(r() * 4);
      if (r() < 0.3) s.minItems = 1;
      return s;
    }
    case 'anyOf': return { anyOf: [randomSchema(r, depth + 1), randomSchema(r, depth + 1)] };
    default: {
      const n = 1 + Math.floor(r() * 4);
      const properties = {};
      for (let i = 0; i < n; i++) properties[`p${i}_${Math.floor(r() * 100)}`] = randomSchema(r, depth + 1);
      const names = Object.keys(properties);
      return { type: 'object', properties, required: names.filter(() => r() < 0.6), additionalProperties: r() < 0.5 ? false : undefined };
    }
  }
}
const SCHEMAS = [...HAND];
for (let i = 0; SCHEMAS.length < 60; i++) SCHEMAS.push(JSON.parse(JSON.stringify(randomSchema(rng(1000 + i)))));

test('response_format json_schema: 60 schemas x 3 seeds at temperature 1 all parse and validate', opts, async () => {
  const jobs = [];
  for (const [i, schema] of SCHEMAS.entries()) {
    for (const seed of [1, 2, 3]) jobs.push({ i, schema, seed });
  }
  let stopped = 0;
  // Four at a time: the engine batches them (n_parallel 4 on a CPU).
  for (let k = 0; k < jobs.length; k += 4) {
    await Promise.all(jobs.slice(k, k + 4).map(async ({ i, schema, seed }) => {
      const r = await openai.chat.completions.create({
        model: 'tiny', temperature: 1, seed, max_tokens: 400,
        messages: [{ role: 'user', content: 'Give me JSON.' }],
        response_format: { type: 'json_schema', json_schema: { name: `s${i}`, strict: true, schema } },
      });
      check(schema, r.choices[0].message.content, `schema ${i} seed ${seed}`);
      if (r.choices[0].finish_reason === 'stop') stopped++;
    }));
  }
  assert.equal(stopped, jobs.length);  // the grammar ended every one (none ran out of tokens)
});

// The held-out set (heldout_schemas.json): schemas as tools, Pydantic, zod, TypeScript and
// config files write them, written apart from the converter. Each reply must finish, parse and
// validate; a 400 must name the keyword, and only schemas marked reject_ok (keywords no grammar
// tool enforces) may get one.
test('held-out schemas x 3 seeds at temperature 1: every reply validates, or a 400 names the keyword', opts, async () => {
  const HELDOUT = JSON.parse(readFileSync(new URL('./heldout_schemas.json', import.meta.url)));
  const failures = [];
  const rejected = [];
  let passed = 0;
  const t0 = Date.now();
  const one = async ({ name, schema, reject_ok }) => {
    for (const seed of [1, 2, 3]) {
      const started = Date.now();
      let r;
      try {
        r = await openai.chat.completions.create({
          model: 'tiny', temperature: 1, seed, max_tokens: 500,
          messages: [{ role: 'user', content: 'Give me JSON.' }],
          response_format: { type: 'json_schema', json_schema: { name: name.slice(0, 64), strict: true, schema } },
        });
      } catch (e) {
        const msg = e?.error?.message ?? String(e);
        if (e.status !== 400) failures.push(`${name}: status ${e.status}: ${msg}`);
        else if (!reject_ok) failures.push(`${name}: 400 for a schema grammar tools support: ${msg}`);
        else if (!msg.includes(reject_ok)) failures.push(`${name}: the 400 does not name '${reject_ok}': ${msg}`);
        else rejected.push(name);
        return;  // a rejection does not depend on the seed
      }
      const { content } = r.choices[0].message;
      const finish = r.choices[0].finish_reason;
      if (finish !== 'stop') {  // cut off by max_tokens: neither a pass nor a silent failure
        failures.push(`${name} seed ${seed}: finish_reason ${finish} after ${r.usage?.completion_tokens} tokens\n${content}`);
        continue;
      }
      let doc;
      try {
        doc = JSON.parse(content);
      } catch (e) {
        failures.push(`${name} seed ${seed}: not JSON: ${e.message}\n${content}`);
        continue;
      }
      const validate = validator(schema === true ? {} : schema);
      if (!validate(doc)) failures.push(`${name} seed ${seed}: ${JSON.stringify(validate.errors)}\n${content}`);
      else passed++;
      const ms = Date.now() - started;
      if (ms > 30000) failures.push(`${name} seed ${seed}: took ${ms} ms`);
    }
  };
  for (let k = 0; k < HELDOUT.length; k += 4) await Promise.all(HELDOUT.slice(k, k + 4).map(one));
  console.log(`held-out: ${HELDOUT.length} schemas, ${passed} replies validated, ${rejected.length} rejected (${rejected.join(', ')}), ${failures.length} failures, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(HELDOUT.length >= 80);
  assert.deepEqual(failures, []);
});

test('response_format json_object and streaming json_schema give JSON', opts, async () => {
  const r = await openai.chat.completions.create({ model: 'tiny', temperature: 1, seed: 5, max_tokens: 200, messages: [{ role: 'user', content: 'JSON!' }], response_format: { type: 'json_object' } });
  const doc = JSON.parse(r.choices[0].message.content);
  assert.equal(typeof doc, 'object');
  assert.ok(!Array.isArray(doc) && doc !== null);
  const schema = SCHEMAS[0];
  const stream = await openai.chat.completions.create({ model: 'tiny', temperature: 1, seed: 9, max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'JSON!' }], response_format: { type: 'json_schema', json_schema: { name: 'p', schema } } });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  check(schema, text, 'streamed');
});

const weather = {
  name: 'get_weather', description: 'Current weather',
  input_schema: { type: 'object', properties: { city: { type: 'string', maxLength: 30 }, unit: { enum: ['c', 'f'] }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'unit'], additionalProperties: false },
};
const clock = { name: 'get_time', description: 'Current time', input_schema: { type: 'object', properties: { zone: { type: 'string', format: 'uuid' } }, required: ['zone'] } };

test('Anthropic tool_choice any / tool: a tool_use whose input validates, streamed or not', opts, async () => {
  for (let i = 0; i < 4; i++) {
    const tool_choice = i % 2 ? { type: 'tool', name: 'get_time' } : { type: 'any' };
    const msg = await anthropic.messages.create({ model: 'tiny', max_tokens: 300, temperature: 1, tools: [weather, clock], tool_choice, messages: [{ role: 'user', content: 'Weather and time?' }] });
    assert.equal(msg.stop_reason, 'tool_use', JSON.stringify(msg.content));
    const uses = msg.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1, JSON.stringify(msg.content));
    if (tool_choice.type === 'tool') assert.equal(uses[0].name, 'get_time');
    const tool = [weather, clock].find((t) => t.name === uses[0].name);
    check(tool.input_schema, JSON.stringify(uses[0].input), `tool ${tool.name}`);
  }
  const stream = anthropic.messages.stream({ model: 'tiny', max_tokens: 300, temperature: 1, tools: [weather], tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'Weather?' }] });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((b) => b.type === 'tool_use');
  check(weather.input_schema, JSON.stringify(use.input), 'streamed tool_use');
});

test("Claude Code's own 23 tool schemas: forced calls validate against the chosen tool", opts, async () => {
  const ccTools = JSON.parse(readFileSync(new URL('../../grammar/claude_code_tools.json', import.meta.url)));
  // The same prompt each time (~25k tokens: its prefill dominates on 2 CPU cores), so the
  // prefix cache makes the later requests cheap; the random model picks the tool.
  for (let i = 0; i < 5; i++) {
    const msg = await anthropic.messages.create({ model: 'tiny', max_tokens: 600, temperature: 1, tools: ccTools, tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'Go.' }] });
    assert.equal(msg.stop_reason, 'tool_use', JSON.stringify(msg.content).slice(0, 500));
    const use = msg.content.find((b) => b.type === 'tool_use');
    const tool = ccTools.find((t) => t.name === use.name);
    assert.ok(tool, use.name);
    check(tool.input_schema, JSON.stringify(use.input), `Claude Code tool ${use.name}`);
  }
});

test('tool_choice none returns text only', opts, async () => {
  for (let i = 0; i < 3; i++) {
    const msg = await anthropic.messages.create({ model: 'tiny', max_tokens: 30, temperature: 1, tools: [weather], tool_choice: { type: 'none' }, messages: [{ role: 'user', content: 'Weather?' }] });
    assert.deepEqual([...new Set(msg.content.map((b) => b.type))], ['text']);
    assert.notEqual(msg.stop_reason, 'tool_use');
  }
  const r = await openai.chat.completions.create({ model: 'tiny', max_tokens: 30, temperature: 1, tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather.input_schema } }], tool_choice: 'none', messages: [{ role: 'user', content: 'Weather?' }] });
  assert.equal(r.choices[0].message.tool_calls, undefined);
});

test('OpenAI strict tools with tool_choice required / named: arguments validate', opts, async () => {
  const tools = [weather, clock].map((t) => ({ type: 'function', function: { name: t.name, strict: true, parameters: t.input_schema } }));
  for (const [i, tool_choice] of ['required', { type: 'function', function: { name: 'get_weather' } }, 'required'].entries()) {
    const r = await openai.chat.completions.create({ model: 'tiny', max_tokens: 300, temperature: 1, seed: i, tools, tool_choice, messages: [{ role: 'user', content: 'Weather?' }] });
    assert.equal(r.choices[0].finish_reason, 'tool_calls', JSON.stringify(r.choices[0].message));
    const call = r.choices[0].message.tool_calls[0];
    const tool = [weather, clock].find((t) => t.name === call.function.name);
    check(tool.input_schema, call.function.arguments, `strict tool ${tool.name}`);
  }
  // A strict tool whose schema cannot be enforced is refused.
  await assert.rejects(openai.chat.completions.create({ model: 'tiny', max_tokens: 5, tools: [{ type: 'function', function: { name: 'u', strict: true, parameters: { type: 'array', uniqueItems: true, minItems: 2 } } }], tool_choice: 'required', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 400 && /uniqueItems/.test(e.error.message));
});

test('a GBNF grammar on chat completions, legacy completions and jobs', opts, async () => {
  const grammar = 'root ::= "<" [a-z]{2,6} ">" ( "," [0-9]+ )?';
  const re = /^<[a-z]{2,6}>(,[0-9]+)?$/;
  const chat = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', temperature: 1, max_tokens: 40, grammar, messages: [{ role: 'user', content: 'x' }] }) }).then((r) => r.json());
  assert.match(chat.choices[0].message.content, re);
  const legacy = await openai.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 40, temperature: 1, grammar });
  assert.match(legacy.choices[0].text, re);
  const job = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', max_tokens: 40, grammar }) }).then((r) => r.json());
  let done;
  for (let i = 0; i < 200; i++) {
    done = await fetch(`${server.url}/v1/jobs/${job.id}`).then((r) => r.json());
    if (done.state === 'succeeded' || done.state === 'failed') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(done.state, 'succeeded', JSON.stringify(done));
  assert.match(done.result.text, re);
  const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', grammar: 'root ::= undefined-rule', messages: [{ role: 'user', content: 'x' }] }) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /undefined-rule/);
});

// GBNF grammars as llama.cpp users write them (its grammars/ folder's kinds, written here anew):
// each output must parse with the grammar's own recognizer below.
function arithmetic(text) {  // expr ::= term (op term)*, term ::= ident | num | "(" expr ")"
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n'.includes(text[i])) i++; };
  const term = () => {
    if (text[i] === '(') { i++; ws(); if (!expr() || text[i] !== ')') return false; i++; ws(); return true; }
    const m = /^([a-z][a-z0-9_]*|[0-9]+)/.exec(text.slice(i));
    if (!m) return false;
    i += m[0].length; ws();
    return true;
  };
  const expr = () => {
    if (!term()) return false;
    while ('+-*/'.includes(text[i]) && i < text.length) { i++; ws(); if (!term()) return false; }
    return true;
  };
  return expr() && i === text.length;
}
const GBNF = [
  { name: 'json', max: 300, grammar: String.raw`root ::= object
value ::= object | array | string | number | ( "true" | "false" | "null" ) ws
object ::= "{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? "}" ws
array ::= "[" ws ( value ( "," ws value )* )? "]" ws
string ::= "\"" ( [^"\\\x00-\x1F\x7F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\"" ws
number ::= "-"? ( "0" | [1-9] [0-9]{0,12} ) ( "." [0-9]{1,6} )? ( [eE] [-+]? [0-9]{1,2} )? ws
# at most one newline and a little indentation between tokens
ws ::= ( " " | "\n" [ \t]{0,8} )?`, ok: (t) => { const d = JSON.parse(t); return typeof d === 'object' && d !== null && !Array.isArray(d); } },
  { name: 'arithmetic', max: 120, grammar: String.raw`root ::= expr
expr ::= term ( [-+*/] ws term )*
term ::= ( ident | num | "(" ws expr ")" ) ws
ident ::= [a-z] [a-z0-9_]{0,8}
num ::= [0-9]{1,6}
ws ::= [ \t\n]{0,2}`, ok: arithmetic },
  { name: 'list', max: 200, grammar: String.raw`root ::= item{1,5}
item ::= "- " [^\n\r]{1,30} "\n"`, ok: (t) => /^(- [^\n\r]{1,30}\n){1,5}$/u.test(t) },
  { name: 'chess', max: 120, grammar: String.raw`root ::= "1. " turn ( " " [2-9] ". " turn ){0,3}
turn ::= move " " move
move ::= ( pawn | piece | castle ) [+#]?
pawn ::= ( [a-h] "x" )? [a-h] [1-8] ( "=" [QRBN] )?
piece ::= [KQRBN] [a-h1-8]? "x"? [a-h] [1-8]
castle ::= "O-O" ( "-O" )?`,
    ok: (t) => /^1\. M M( [2-9]\. M M){0,3}$/.test(t.replace(/(O-O(-O)?|([a-h]x)?[a-h][1-8](=[QRBN])?|[KQRBN][a-h1-8]?x?[a-h][1-8])[+#]?/g, 'M')) },
];

test('llama.cpp-style GBNF grammars (JSON, arithmetic, list, chess moves): outputs conform', opts, async () => {
  for (const { name, grammar, max, ok } of GBNF) {
    for (const seed of [1, 2, 3]) {
      const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', temperature: 1, seed, max_tokens: max, grammar, messages: [{ role: 'user', content: 'x' }] }) });
      const body = await res.json();
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(body)}`);
      const text = body.choices[0].message.content;
      // At max_tokens the sampler has closed the output in time (finish_reason length): it must
      // conform all the same, so the recognizer below decides either way.
      assert.ok(['stop', 'length'].includes(body.choices[0].finish_reason), `${name} seed ${seed}: ${body.choices[0].finish_reason}`);
      let good = false;
      try { good = ok(text); } catch { good = false; }
      assert.ok(good, `${name} seed ${seed}: does not conform:\n${text}`);
    }
  }
});

test('unsupported schema keywords are a 400 naming them', opts, async () => {
  await assert.rejects(openai.chat.completions.create({ model: 'tiny', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: { a: { type: 'array', uniqueItems: true, minItems: 2 } } } } } }),
    (e) => e.status === 400 && /uniqueItems/.test(e.error.message) && /properties\.a/.test(e.error.message));
  await assert.rejects(anthropic.messages.create({ model: 'tiny', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], output_config: { format: { type: 'json_schema', schema: { type: 'string', format: 'idn-hostname' } } } }),
    (e) => e.status === 400 && /idn-hostname/.test(e.error.error.message));
});
