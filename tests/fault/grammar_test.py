"""Hostile structured-output requests against the real binary: bad and pathological GBNF
grammars and JSON Schemas get a clear 400 (or, where legal, a valid answer) within a bounded time,
never a crash or a hang, and the server keeps serving."""
import json
import time
import unittest

from harness import Server, anthropic_message, is_anthropic_error, is_openai_error, json_body, main, openai_chat, request, require_env


def nested_schema(depth):
    s = {"type": "string"}
    for _ in range(depth):
        s = {"type": "object", "properties": {"a": s}, "required": ["a"]}
    return s


class HostileGrammars(unittest.TestCase):
    def test_bad_and_pathological_grammars_and_schemas(self):
        require_env(self)
        with Server() as server:
            p = server.port
            bad_grammars = [
                "root ::= ",                                   # empty: matches "" only (legal)
                "root ::= undefined",
                "root ::= root \"a\" | \"b\"",                 # left recursion
                "root ::= \"a\" root",                         # never finishes
                "root ::= " + "(" * 5000 + "\"a\"" + ")" * 5000,
                "root ::= \"a\"{99999999}",
                "root ::= [" + "a-" * 1000,
                "root ::= \"\\xZZ\"",
                "x ::= \"a\"",                                 # no root
                "root ::= (\"a\"{0,60000}){0,60000}",          # a chain too deep before a byte
                "root ::= \"\x00\xff\xfe\"",                   # a NUL and Latin-1 characters (legal)
            ]
            for g in bad_grammars:
                t0 = time.monotonic()
                status, _, body = request(p, "POST", "/v1/chat/completions", openai_chat(grammar=g, max_tokens=4), timeout=60)
                self.assertLess(time.monotonic() - t0, 30, g[:60])
                self.assertIn(status, (200, 400), (g[:60], body[:300]))
                if status == 400:
                    self.assertTrue(is_openai_error(body, "invalid_request_error"), body[:300])
                    self.assertIn("grammar", json_body(body)["error"]["message"])
            bad_schemas = [
                nested_schema(200),                             # deeper than the converter goes
                {"type": "array", "uniqueItems": True, "minItems": 2},  # distinct items a grammar cannot promise
                {"$ref": "#/$defs/nope"},
                {"$ref": "https://example.com/s.json"},
                {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},  # a reference to itself only
                {"type": "string", "pattern": "(a|b" },
                {"type": "string", "pattern": "a{5000}"},
                {"type": "integer", "minimum": 10, "maximum": 1},
                {"type": "string", "maxLength": 10 ** 9},
                {"enum": []},
                {"type": 5},
                False,
            ]
            for s in bad_schemas:
                t0 = time.monotonic()
                rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": s}}
                status, _, body = request(p, "POST", "/v1/chat/completions", openai_chat(response_format=rf), timeout=60)
                self.assertLess(time.monotonic() - t0, 30, json.dumps(s)[:80])
                self.assertEqual(status, 400, (json.dumps(s)[:80], body[:300]))
                self.assertTrue(is_openai_error(body, "invalid_request_error"), body[:300])
                status, _, body = request(p, "POST", "/v1/messages", anthropic_message(
                    output_config={"format": {"type": "json_schema", "schema": s}}), timeout=60)
                self.assertEqual(status, 400, (json.dumps(s)[:80], body[:300]))
                self.assertTrue(is_anthropic_error(body, "invalid_request_error"), body[:300])
            # A strict tool with an unenforceable schema is refused; a non-strict one still answers.
            tool = {"type": "function", "function": {"name": "t", "parameters": {"type": "array", "uniqueItems": True, "minItems": 2}}}
            status, _, body = request(p, "POST", "/v1/chat/completions", openai_chat(tools=[tool], tool_choice="required"))
            self.assertEqual(status, 200, body[:300])
            tool["function"]["strict"] = True
            status, _, body = request(p, "POST", "/v1/chat/completions", openai_chat(tools=[tool], tool_choice="required"))
            self.assertEqual(status, 400, body[:300])
            # Still serving, and constrained output still works.
            status, _, body = request(p, "POST", "/v1/chat/completions", openai_chat(grammar='root ::= "ok"', max_tokens=8))
            self.assertEqual(status, 200, body[:300])
            self.assertEqual(json_body(body)["choices"][0]["message"]["content"], "ok")


if __name__ == "__main__":
    main()
