"""Requests that must never crash the server or get the wrong error shape: deep JSON in every
place a schema or content can nest, local-server safety checks, strict OpenAI typing."""
import json
import unittest

from harness import (Server, anthropic_message, is_anthropic_error, is_openai_error, json_body, main, openai_chat,
                     raw, request, require_env)

DEEP = 20000  # levels; the crash needed about 16k


def deep_array(n=DEEP):
    return "[" * n + "]" * n


def deep_object(n=DEEP):
    return '{"a":' * n + "1" + "}" * n


class WithServer(unittest.TestCase):
    """One server (started with SERVER_ARGS) shared by the tests of a class."""
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        require_env(cls)
        cls.server = Server(cls.SERVER_ARGS)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()


class DeepJson(WithServer):
    def post_raw(self, path, text):
        return request(self.server.port, "POST", path, text.encode(), {"Content-Type": "application/json"})

    def assert_refused(self, path, text, shape):
        status, _, body = self.post_raw(path, text)
        self.assertEqual(status, 400, body[:300])
        self.assertTrue(shape(body, "invalid_request_error"), body[:300])
        self.assertIn(b"deeper than", body)
        self.assertTrue(self.server.alive(), "the server died")

    def test_anthropic_tool_schema(self):
        body = json.dumps(anthropic_message(tools=[{"name": "t", "input_schema": {"type": "object"}}]))
        self.assert_refused("/v1/messages", body.replace('{"type": "object"}', deep_object()), is_anthropic_error)

    def test_anthropic_content_blocks(self):
        body = json.dumps(anthropic_message(messages=[{"role": "user", "content": "X"}]))
        self.assert_refused("/v1/messages", body.replace('"X"', deep_array(58000)), is_anthropic_error)

    def test_anthropic_tool_use_input_and_count_tokens(self):
        msgs = [{"role": "user", "content": "a"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "x", "name": "t", "input": "X"}]}]
        body = json.dumps(anthropic_message(messages=msgs)).replace('"X"', deep_object())
        self.assert_refused("/v1/messages", body, is_anthropic_error)
        self.assert_refused("/v1/messages/count_tokens", body, is_anthropic_error)

    def test_openai_response_format_and_tools(self):
        rf = json.dumps(openai_chat(response_format={"type": "json_schema", "json_schema": {"schema": "X"}}))
        self.assert_refused("/v1/chat/completions", rf.replace('"X"', deep_object()), is_openai_error)
        tools = json.dumps(openai_chat(tools=[{"type": "function", "function": {"name": "f", "parameters": "X"}}]))
        self.assert_refused("/v1/chat/completions", tools.replace('"X"', deep_array()), is_openai_error)

    def test_openai_tool_call_arguments_string(self):
        msgs = [{"role": "user", "content": "a"},
                {"role": "assistant", "content": None,
                 "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": deep_array()}}]}]
        status, _, body = request(self.server.port, "POST", "/v1/chat/completions", openai_chat(messages=msgs))
        self.assertEqual(status, 400, body[:300])
        self.assertTrue(is_openai_error(body, "invalid_request_error"), body[:300])
        self.assertIn(b"arguments", body)

    def test_jobs_tools(self):
        job = json.dumps({"messages": [{"role": "user", "content": "a"}], "max_tokens": 2,
                          "tools": [{"type": "function", "function": {"name": "f", "parameters": "X"}}]})
        status, _, body = self.post_raw("/v1/jobs", job.replace('"X"', deep_object()))
        self.assertEqual(status, 400, body[:300])
        self.assertTrue(is_openai_error(body), body[:300])

    def test_within_limit_still_works(self):
        schema = {"type": "object", "properties": {}}
        node = schema
        for _ in range(20):  # a realistic nested schema
            child = {"type": "object", "properties": {}}
            node["properties"]["x"] = child
            node = child
        status, _, body = request(self.server.port, "POST", "/v1/messages",
                                  anthropic_message(tools=[{"name": "t", "input_schema": schema}]))
        self.assertEqual(status, 200, body[:300])


class LocalSafety(WithServer):
    SERVER_ARGS = ["--api-key", "sekret", "--allowed-hosts", "pensieve.test"]

    def get(self, path, headers):
        hdrs = {"x-api-key": "sekret"}
        hdrs.update(headers)
        return request(self.server.port, "GET", path, headers=hdrs)

    def test_dns_rebinding_host_refused(self):
        status, _, body = self.get("/v1/models", {"Host": "attacker.example:%d" % self.server.port})
        self.assertEqual(status, 403)
        self.assertTrue(is_anthropic_error(body, "permission_error"), body)  # x-api-key: Anthropic's shape
        status, _, body = request(self.server.port, "POST", "/v1/messages", anthropic_message(),
                                  {"Host": "rebind.attacker.example", "x-api-key": "sekret"})
        self.assertEqual(status, 403)
        self.assertTrue(is_anthropic_error(body, "permission_error"), body)

    def test_loopback_and_allowed_hosts_accepted(self):
        for host in ["127.0.0.1:%d" % self.server.port, "localhost", "LOCALHOST:1", "[::1]:80", "127.1.2.3",
                     "pensieve.test:%d" % self.server.port]:
            status, _, body = self.get("/v1/models", {"Host": host})
            self.assertEqual(status, 200, (host, body))

    def test_post_needs_json_content_type(self):
        for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]:
            hdrs = {"x-api-key": "sekret"}
            if ct:
                hdrs["Content-Type"] = ct
            status, _, body = request(self.server.port, "POST", "/v1/messages", json.dumps(anthropic_message()), hdrs)
            self.assertEqual(status, 415, (ct, body))
            self.assertTrue(is_anthropic_error(body, "invalid_request_error"), body)
            status, _, body = request(self.server.port, "POST", "/v1/chat/completions", json.dumps(openai_chat()), hdrs)
            self.assertEqual(status, 415, (ct, body))
            self.assertTrue(is_openai_error(body), body)
        status, _, _ = request(self.server.port, "POST", "/v1/messages", json.dumps(anthropic_message()),
                               {"x-api-key": "sekret", "Content-Type": "Application/JSON; charset=utf-8"})
        self.assertEqual(status, 200)

    def test_no_cors_unless_configured(self):
        status, headers, _ = self.get("/v1/models", {"Origin": "http://evil.example"})
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", headers)
        status, headers, _ = request(self.server.port, "OPTIONS", "/v1/messages",
                                     headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertNotIn("access-control-allow-origin", headers)

    def test_cross_site_posts_refused_own_page_served(self):
        port = self.server.port
        # A page of another site posting a text/plain body (no preflight) to the Ollama routes,
        # which take any Content-Type: refused before anything runs.
        for path, body in [("/api/delete", {"model": "anything"}), ("/api/pull", {"model": "hf:a/b"}),
                           ("/api/generate", {"model": "x", "prompt": "hi"})]:
            status, _, text = request(port, "POST", path, json.dumps(body),
                                      {"x-api-key": "sekret", "Origin": "https://evil.example", "Content-Type": "text/plain"})
            self.assertEqual(status, 403, (path, text))
            self.assertIn(b"--cors-origin", text)
        # The server's own page (Origin = the address it was loaded from) is served.
        status, _, text = request(port, "POST", "/v1/chat/completions", json.dumps(openai_chat()),
                                  {"x-api-key": "sekret", "Origin": "http://127.0.0.1:%d" % port,
                                   "Host": "127.0.0.1:%d" % port, "Content-Type": "application/json"})
        self.assertEqual(status, 200, text)
        self.assertTrue(self.server.alive())

    def test_control_bytes_in_header_values_refused(self):
        port = self.server.port
        for value in [b"sekret\x00garbage", b"sekret\x01", b"sek\x7fret"]:
            status, _, body = raw(port, b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + value +
                                  b"\r\nConnection: close\r\n\r\n")
            self.assertIn(status, (400, 401), body)
            self.assertNotEqual(status, 200)
        self.assertTrue(self.server.alive())

    def test_api_key_whole_value(self):
        for key in ["sekre", "sekret2", "sekretsekret", "", "SEKRET"]:
            status, _, _ = self.get("/v1/models", {"x-api-key": key})
            self.assertEqual(status, 401, key)


class StrictTypes(WithServer):
    def test_openai_wrong_typed_fields_named(self):
        for field, value in [("stream", "yes"), ("seed", "x"), ("response_format", 5), ("top_k", 1.5),
                             ("stream_options", []), ("ignore_eos", 1), ("tools", {}), ("n", "1"), ("user", 3),
                             ("temperature", "hot")]:
            status, _, body = request(self.server.port, "POST", "/v1/chat/completions", openai_chat(**{field: value}))
            self.assertEqual(status, 400, (field, body))
            self.assertTrue(is_openai_error(body, "invalid_request_error"), body)
            self.assertIn(field, json_body(body)["error"]["message"])

    def test_unknown_fields_still_ignored(self):
        status, _, body = request(self.server.port, "POST", "/v1/chat/completions", openai_chat(whatever={"a": 1}))
        self.assertEqual(status, 200, body)

    def test_unknown_method_on_messages_is_anthropic_shaped(self):
        for method in ["PUT", "PATCH", "DELETE", "GET"]:
            status, _, body = request(self.server.port, method, "/v1/messages", headers={"Content-Length": "0"})
            self.assertIn(status, (404, 405), (method, body))
            self.assertTrue(is_anthropic_error(body), (method, body))
        status, _, body = request(self.server.port, "PUT", "/v1/chat/completions", headers={"Content-Length": "0"})
        self.assertTrue(is_openai_error(body), body)


if __name__ == "__main__":
    main()
