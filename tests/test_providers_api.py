"""Provider billing APIs against a real HTTP server on 127.0.0.1 (pytest-httpserver) serving the
documented shapes (docs/PROVIDER_APIS.md): pagination, a 429 with Retry-After, a 500, a 401 and a
403 for each provider, an open bucket that changes between pulls, malformed answers; totals exact
(summed by hand from the pages below), pulls idempotent, keys never written anywhere."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from test_report_helpers import build_store, event_row
from werkzeug import Request, Response

from logscan.cli import cli
from logscan.errors import LogscanError
from logscan.providers.pull import pull

AKEY = "sk-ant-admin01-SECRET-anthropic-key-0123456789"
OKEY = "sk-admin-SECRET-openai-key-9876543210"
D1, D2, D3 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"


def a_usage(model: str, unc: int, out: int, cr: int, c5: int, c1: int, ws: int = 0, tier: str = "standard") -> dict[str, Any]:
    return {"uncached_input_tokens": unc, "output_tokens": out, "cache_read_input_tokens": cr,
            "cache_creation": {"ephemeral_5m_input_tokens": c5, "ephemeral_1h_input_tokens": c1},
            "server_tool_use": {"web_search_requests": ws}, "model": model, "workspace_id": "wrkspc_01", "api_key_id": "apikey_01",
            "service_tier": tier, "context_window": "0-200k"}


def anthropic_server(httpserver: HTTPServer, open_bucket_out: int = 500, *, fail_first: int | None = None,
                     claude_code: list[Any] | None = None) -> dict[str, int]:
    """Usage in two pages (page 2 after next_page), costs in one page. Day 2 is the open bucket."""
    calls = {"usage": 0, "cost": 0}

    def usage(req: Request) -> Response:
        assert req.headers.get("x-api-key") == AKEY and req.headers.get("anthropic-version") == "2023-06-01"
        assert req.args.getlist("group_by[]") == ["model", "workspace_id", "api_key_id", "service_tier", "context_window"]
        calls["usage"] += 1
        if fail_first is not None and calls["usage"] == 1:
            return Response("slow down", status=fail_first, headers={"Retry-After": "0"})
        if req.args.get("page") == "page_2":
            body = {"data": [{"starting_at": D2, "ending_at": D3, "results": [a_usage("claude-sonnet-4-5-20250929", 100, open_bucket_out, 0, 0, 0)]}],
                    "has_more": False, "next_page": None}
        else:
            body = {"data": [{"starting_at": D1, "ending_at": D2, "results": [
                a_usage("claude-sonnet-4-5-20250929", 1_000, 2_000, 30_000, 400, 50, ws=3),
                a_usage("claude-opus-4-6", 10, 20, 300, 0, 0, tier="batch")]}], "has_more": True, "next_page": "page_2"}
        start = req.args["starting_at"][:10] + "T00:00:00Z"  # as the API does: buckets snapped to the day, from starting_at on
        body["data"] = [b for b in body["data"] if b["starting_at"] >= start]
        return Response(json.dumps(body), content_type="application/json")

    def cost(req: Request) -> Response:
        calls["cost"] += 1
        body = {"data": [{"starting_at": D1, "ending_at": D2, "results": [
            {"currency": "USD", "amount": "123.45", "workspace_id": "wrkspc_01", "description": "Claude Sonnet 4.5 Usage - Input Tokens",
             "cost_type": "tokens", "context_window": "0-200k", "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "token_type": "uncached_input_tokens"},
            {"currency": "USD", "amount": "0.5", "workspace_id": None, "description": "Web Search", "cost_type": "web_search",
             "context_window": None, "model": None, "service_tier": None, "token_type": None}]}],
                "has_more": False, "next_page": None}
        body["data"] = [b for b in body["data"] if b["starting_at"] >= req.args["starting_at"][:10] + "T00:00:00Z"]
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/organizations/usage_report/messages").respond_with_handler(usage)
    httpserver.expect_request("/v1/organizations/cost_report").respond_with_handler(cost)
    claude_code_server(httpserver, claude_code)
    return calls


CC_RECORD = {  # the Claude Code report's documented shape; estimated_cost.amount is in cents
    "date": "2026-11-01T00:00:00Z", "actor": {"type": "user_actor", "email_address": "dev@example.com"}, "organization_id": "org_1",
    "customer_type": "api", "terminal_type": "vscode",
    "core_metrics": {"num_sessions": 5, "lines_of_code": {"added": 1543, "removed": 892}, "commits_by_claude_code": 12, "pull_requests_by_claude_code": 2},
    "tool_actions": {"edit_tool": {"accepted": 45, "rejected": 5}},
    "model_breakdown": [{"model": "claude-sonnet-4-5-20250929", "tokens": {"input": 100_000, "output": 35_000, "cache_read": 10_000, "cache_creation": 5_000},
                         "estimated_cost": {"currency": "USD", "amount": 1025}}],
}


def claude_code_server(httpserver: HTTPServer, records: list[Any] | None = None) -> None:
    def handler(req: Request) -> Response:
        day = req.args["starting_at"]
        data = [r for r in (records or []) if not isinstance(r, dict) or str(r.get("date", "")).startswith(day)]
        return Response(json.dumps({"data": data, "has_more": False, "next_page": None}), content_type="application/json")

    httpserver.expect_request("/v1/organizations/usage_report/claude_code").respond_with_handler(handler)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer, isolated: Path) -> HTTPServer:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", AKEY)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OKEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    claude_code_server(httpserver)
    return httpserver


def q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


SINCE, UNTIL = datetime(2026, 11, 1), datetime(2026, 11, 3)


def test_anthropic_pull_totals_pagination_and_idempotence(env: HTTPServer, db: Path) -> None:
    anthropic_server(env)
    res = pull(db, "anthropic", SINCE, UNTIL)
    assert (res["usage_rows"], res["cost_rows"], res["problems"]) == (3, 2, 0)
    # by hand: uncached 1,000 + 10 + 100; output 2,000 + 20 + 500; cache read 30,000 + 300; 5m 400; 1h 50; searches 3
    want = [(1_110, 2_520, 30_300, 400, 50, 3, 3)]
    sql = ("SELECT sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), "
           "sum(web_search_requests), count(*) FROM api_usage")
    assert q(db, sql) == want
    assert q(db, "SELECT sum(amount_usd) FROM api_costs")[0][0] == pytest.approx(1.2395)  # 123.45 + 0.5 cents
    assert q(db, "SELECT service_tier FROM api_usage WHERE model = 'claude-opus-4-6'") == [("batch",)]
    pull(db, "anthropic", SINCE, UNTIL)  # again: the same rows, not twice as many
    assert q(db, sql) == want and q(db, "SELECT count(*) FROM api_costs") == [(2,)]


def test_open_bucket_is_updated_by_the_next_pull(env: HTTPServer, db: Path) -> None:
    anthropic_server(env, open_bucket_out=500)
    pull(db, "anthropic", SINCE, UNTIL)
    env.clear()
    anthropic_server(env, open_bucket_out=900)  # the day went on
    res = pull(db, "anthropic")  # incremental: from the newest stored bucket (day 2)
    assert res["since"] == datetime(2026, 11, 2)
    assert q(db, "SELECT sum(output_tokens) FROM api_usage WHERE bucket_start = '2026-11-02'") == [(900,)]
    assert q(db, "SELECT sum(output_tokens) FROM api_usage") == [(2_000 + 20 + 900,)]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_429_and_5xx_are_retried_with_retry_after(env: HTTPServer, db: Path, status: int) -> None:
    calls = anthropic_server(env, fail_first=status)
    waits: list[float] = []
    res = pull(db, "anthropic", SINCE, UNTIL, sleep=waits.append)
    assert res["usage_rows"] == 3 and waits == [0.0] and calls["usage"] == 3  # one refusal, then two pages


def test_persistent_5xx_gives_up_with_one_line_and_writes_nothing(env: HTTPServer, db: Path) -> None:
    env.expect_request("/v1/organizations/usage_report/messages").respond_with_data("down", status=502)
    waits: list[float] = []
    with pytest.raises(LogscanError) as e:
        pull(db, "anthropic", SINCE, UNTIL, sleep=waits.append, retries=3)
    assert "gave up after 3 attempts (HTTP 502)" in str(e.value) and waits == [1.0, 2.0, 4.0]
    assert not db.exists() or q(db, "SELECT count(*) FROM api_usage") == [(0,)]


def test_401_says_which_key_is_needed_and_never_the_key(env: HTTPServer, db: Path) -> None:
    env.expect_request("/v1/organizations/usage_report/messages").respond_with_data('{"error":"invalid x-api-key"}', status=401)
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "pull", "anthropic", "--since", "2026-11-01"])
    assert r.exit_code == 1
    assert "Admin API key (sk-ant-admin" in r.output and AKEY not in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("provider, path, key, hint", [
    ("anthropic", "/v1/organizations/usage_report/messages", AKEY, "Admin API key (sk-ant-admin"),
    ("openai", "/v1/organization/usage/completions", OKEY, "OpenAI Admin key"),
])
def test_a_refused_key_names_the_key_type_for_each_provider(env: HTTPServer, db: Path, status: int, provider: str, path: str,
                                                            key: str, hint: str) -> None:
    env.expect_request(path).respond_with_data('{"error":{"message":"not allowed"}}', status=status)
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "pull", provider, "--since", "2026-11-01", "--until", "2026-11-02"])
    assert r.exit_code == 1, r.output
    line = r.output.strip()
    assert f"HTTP {status}" in line and hint in line and len(line.splitlines()) == 1
    assert key not in r.output and "SECRET" not in r.output
    assert not db.exists() or q(db, "SELECT count(*) FROM api_usage") == [(0,)]


@pytest.mark.parametrize("body, why", [
    ("<html>proxy error</html>", "not JSON"),
    ("[1, 2]", "not an object"),
])
def test_an_answer_that_is_not_a_json_object_is_one_clear_error(env: HTTPServer, db: Path, body: str, why: str) -> None:
    env.expect_request("/v1/organizations/usage_report/messages").respond_with_data(body, status=200)
    with pytest.raises(LogscanError, match=why):
        pull(db, "anthropic", SINCE, UNTIL)


def test_malformed_results_become_problems_and_the_rest_is_kept(env: HTTPServer, db: Path) -> None:
    bad = {"data": [
        {"starting_at": D1, "ending_at": D2, "results": [a_usage("m-good", 5, 6, 0, 0, 0), {**a_usage("m-neg", 1, 1, 0, 0, 0), "output_tokens": -4},
                                                         {**a_usage("m-str", 1, 1, 0, 0, 0), "uncached_input_tokens": "12"}, "not an object"]},
        {"starting_at": "yesterday", "ending_at": D2, "results": []},
        {"no": "results"}], "has_more": False}
    env.expect_request("/v1/organizations/usage_report/messages").respond_with_json(bad)
    env.expect_request("/v1/organizations/cost_report").respond_with_json({"data": [{"starting_at": D1, "ending_at": D2, "results": [
        {"currency": "USD", "amount": "abc"}, {"currency": "USD", "amount": "7"}]}], "has_more": False})
    res = pull(db, "anthropic", SINCE, UNTIL)
    assert (res["usage_rows"], res["cost_rows"], res["problems"]) == (1, 1, 6)
    assert q(db, "SELECT model, input_tokens, output_tokens FROM api_usage") == [("m-good", 5, 6)]
    reasons = [r for (r,) in q(db, "SELECT reason FROM problems WHERE kind = 'api-response' ORDER BY reason")]
    assert any("output_tokens: expected a non-negative integer" in r for r in reasons)
    assert any("starting_at: not a time" in r for r in reasons) and any("amount: expected a number" in r for r in reasons)
    assert sorted(q(db, "SELECT DISTINCT path FROM problems")) == [("anthropic:/v1/organizations/cost_report",),
                                                                   ("anthropic:/v1/organizations/usage_report/messages",)]


def openai_server(httpserver: HTTPServer) -> None:
    def usage(req: Request) -> Response:
        assert req.headers.get("authorization") == f"Bearer {OKEY}"
        assert req.args.getlist("group_by") == ["model", "project_id", "api_key_id"]
        first = {"object": "bucket", "start_time": 1_793_491_200, "end_time": 1_793_577_600, "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 5_000, "output_tokens": 700, "input_cached_tokens": 3_000,
             "input_audio_tokens": 0, "output_audio_tokens": 0, "num_model_requests": 12, "project_id": "proj_1", "user_id": None,
             "api_key_id": "key_1", "model": "gpt-5-codex", "batch": False}]}
        second = {"object": "bucket", "start_time": 1_793_577_600, "end_time": 1_793_664_000, "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 100, "output_tokens": 10, "input_cached_tokens": 0,
             "num_model_requests": 1, "project_id": "proj_1", "api_key_id": "key_1", "model": "gpt-5", "batch": True}]}
        if req.args.get("page") == "p2":
            return Response(json.dumps({"object": "page", "data": [second], "has_more": False, "next_page": None}), content_type="application/json")
        return Response(json.dumps({"object": "page", "data": [first], "has_more": True, "next_page": "p2"}), content_type="application/json")

    httpserver.expect_request("/v1/organization/usage/completions").respond_with_handler(usage)
    httpserver.expect_request("/v1/organization/costs").respond_with_json({"object": "page", "data": [
        {"object": "bucket", "start_time": 1_793_491_200, "end_time": 1_793_577_600, "results": [
            {"object": "organization.costs.result", "amount": {"value": 0.0123, "currency": "usd"}, "line_item": "gpt-5-codex, input", "project_id": "proj_1"},
            {"object": "organization.costs.result", "amount": {"value": 1.5, "currency": "usd"}, "line_item": "gpt-5-codex, output", "project_id": "proj_1"}]}],
        "has_more": False, "next_page": None})


def test_openai_pull_counts_cached_input_once(env: HTTPServer, db: Path) -> None:
    openai_server(env)
    res = pull(db, "openai", datetime(2026, 11, 1), datetime(2026, 11, 4))
    assert (res["usage_rows"], res["cost_rows"], res["problems"]) == (2, 2, 0)
    # input_tokens includes the cached ones: uncached = 5,000 - 3,000 + 100
    assert q(db, "SELECT sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), sum(requests) FROM api_usage") == [(2_100, 3_000, 710, 13)]
    assert q(db, "SELECT round(sum(amount_usd), 4), min(currency) FROM api_costs") == [(1.5123, "USD")]
    assert q(db, "SELECT service_tier FROM api_usage WHERE model = 'gpt-5'") == [("batch",)]
    # the completions report has no web searches: unknown (NULL), not a silent zero
    assert q(db, "SELECT count(*) FROM api_usage WHERE web_search_requests IS NULL") == [(2,)]


def test_keys_are_never_written_anywhere(env: HTTPServer, db: Path, isolated: Path, tmp_path: Path) -> None:
    anthropic_server(env)
    openai_server(env)
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "pull", "all", "--since", "2026-11-01", "--until", "2026-11-03"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["--db", str(db), "export", "-o", str(tmp_path / "x.csv")])
    for f in [*isolated.rglob("*"), *tmp_path.rglob("*")]:
        if f.is_file():
            data = f.read_bytes()
            assert AKEY.encode() not in data and OKEY.encode() not in data, f
            assert b"SECRET" not in data, f


def test_without_a_key_the_error_says_where_to_put_one(db: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("ANTHROPIC_ADMIN_KEY", "ANTHROPIC_ADMIN_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "pull", "anthropic"])
    assert r.exit_code == 1 and "ANTHROPIC_ADMIN_KEY" in r.output and "logscan api login anthropic" in r.output


def test_reconcile_sets_api_beside_the_logs(env: HTTPServer, db: Path) -> None:
    anthropic_server(env)
    build_store(db, [event_row(1, datetime(2026, 11, 1, 10), model="claude-sonnet-4-5-20250929", input_tokens=600, output_tokens=1_000,
                               cache_read_tokens=20_000, cost_usd=0.8),
                     event_row(2, datetime(2026, 11, 2, 9), model="claude-sonnet-4-5-20250929", input_tokens=100, output_tokens=100, cost_usd=0.1)])
    pull(db, "anthropic", SINCE, UNTIL)
    r = CliRunner().invoke(cli, ["--db", str(db), "reconcile", "--since", "2026-11-01", "--until", "2026-11-02", "--json"])
    assert r.exit_code == 0, r.output
    rows = {x["day"]: x for x in json.loads(r.stdout)}
    # day 1, API: 1,000 + 2,000 + 30,000 + 400 + 50 (sonnet) + 10 + 20 + 300 (opus) = 33,780; logs: 600 + 1,000 + 20,000
    assert rows["2026-11-01"]["api_tokens"] == 33_780 and rows["2026-11-01"]["log_tokens"] == 21_600
    assert rows["2026-11-01"]["diff_tokens"] == 12_180 and rows["2026-11-01"]["log_share"] == pytest.approx(0.6394, abs=1e-4)
    assert rows["2026-11-01"]["api_usd"] == pytest.approx(1.2395) and rows["2026-11-01"]["log_usd"] == pytest.approx(0.8)
    # day 2 (open bucket): 100 + 500 against the logs' 200
    assert (rows["2026-11-02"]["api_tokens"], rows["2026-11-02"]["log_tokens"]) == (600, 200)
    r = CliRunner().invoke(cli, ["--db", str(db), "reconcile", "--since", "2026-11-01", "--until", "2026-11-02", "--by", "model"])
    assert r.exit_code == 0 and "claude-opus-4-6" in r.output and "subscription" in r.output and "Priority Tier" in r.output


def test_api_tables_are_queryable_and_listed_by_schema(env: HTTPServer, db: Path) -> None:
    anthropic_server(env)
    pull(db, "anthropic", SINCE, UNTIL)
    r = CliRunner().invoke(cli, ["--db", str(db), "schema"])
    assert "api_usage" in r.output and "api_costs" in r.output
    r = CliRunner().invoke(cli, ["--db", str(db), "query", "SELECT count(*) AS n FROM api_usage", "--json"])
    assert json.loads(r.stdout) == [{"n": 3}]


def test_the_daemon_hook_pulls_when_due_on_the_writers_store(env: HTTPServer, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from logscan.ingest.hooks import PERIODIC
    from logscan.providers import pull as pull_mod
    from logscan.store.store import Store

    assert "logscan.providers.pull:periodic_pull" in PERIODIC  # run on the writer thread, between batches
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(pull_mod, "_last_periodic", None)
    monkeypatch.setattr(pull_mod, "FIRST_PULL_DAYS", 40)
    monkeypatch.setattr(pull_mod, "_now", lambda: datetime(2026, 11, 3))
    anthropic_server(env)
    with Store.open(db) as store:
        first = pull_mod.periodic_pull(store)
        assert first == [{"provider": "anthropic", "usage_rows": 3, "cost_rows": 2, "problems": 0, "claude_code_rows": 0}]
        assert pull_mod.periodic_pull(store) is None  # not due again for 15 minutes
    assert q(db, "SELECT count(*) FROM api_usage") == [(3,)]
    monkeypatch.setattr(pull_mod, "_last_periodic", None)
    env.clear()
    env.expect_request("/v1/organizations/usage_report/messages").respond_with_data("down", status=500)
    with Store.open(db) as store:
        (res,) = pull_mod.periodic_pull(store)  # a failing provider is reported, the store untouched
    assert "gave up" in res["error"] and q(db, "SELECT count(*) FROM api_usage") == [(3,)]


def test_without_a_key_the_hook_asks_the_keyring_once_per_period(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook runs on every health tick; with no key it must not ask the keyring each time
    (a keyring round-trip per tick was the daemon's idle CPU), only once per period."""
    from logscan.providers import pull as pull_mod
    from logscan.store.store import Store

    asked: list[str] = []
    monkeypatch.setattr(pull_mod, "key_for", lambda p: asked.append(p) or None)
    monkeypatch.setattr(pull_mod, "_last_periodic", None)
    with Store.open(db) as store:
        assert pull_mod.periodic_pull(store) is None
        assert pull_mod.periodic_pull(store) is None
        assert pull_mod.periodic_pull(store) is None
    assert sorted(asked) == ["anthropic", "openai"]


def test_claude_code_report_per_day_actor_and_model(env: HTTPServer, db: Path) -> None:
    env.clear()
    bad = {**CC_RECORD, "actor": {"type": "user_actor"}}
    anthropic_server(env, claude_code=[CC_RECORD, {**CC_RECORD, "date": "2026-11-02T00:00:00Z", "model_breakdown": []}, bad, "junk"])
    res = pull(db, "anthropic", SINCE, UNTIL)
    assert res["claude_code_rows"] == 2 and res["problems"] == 3  # the actorless record (day 1) and the non-object one (both days)
    assert q(db, "SELECT day::VARCHAR, actor, sessions, lines_added, lines_removed, commits, pull_requests FROM api_claude_code ORDER BY day") == [
        ("2026-11-01", "dev@example.com", 5, 1543, 892, 12, 2), ("2026-11-02", "dev@example.com", 5, 1543, 892, 12, 2)]
    assert q(db, "SELECT model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated_cost_usd FROM api_claude_code_models") == [
        ("claude-sonnet-4-5-20250929", 100_000, 35_000, 10_000, 5_000, 10.25)]
    pull(db, "anthropic", SINCE, UNTIL)  # again: the days are replaced, not doubled
    assert q(db, "SELECT count(*) FROM api_claude_code") == [(2,)] and q(db, "SELECT count(*) FROM api_claude_code_models") == [(1,)]


class _MemoryKeyring:
    """A keyring backend in memory (the real one would be the user's)."""

    priority = 1

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.store[(service, user)] = password


def test_login_saves_the_key_in_the_keyring_and_pull_uses_it(env: HTTPServer, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    ring = _MemoryKeyring()
    monkeypatch.setattr(keyring, "get_password", ring.get_password)
    monkeypatch.setattr(keyring, "set_password", ring.set_password)
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY")
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "login", "anthropic"], input=AKEY + "\n")
    assert r.exit_code == 0, r.output
    assert ring.store == {("logscan", "anthropic"): AKEY} and AKEY not in r.output  # asked for, never echoed
    from logscan.providers.keys import _saved_marker

    marker = _saved_marker()
    assert marker.read_text() == "anthropic\n" and marker.stat().st_mode & 0o777 == 0o600  # a name, never the key
    anthropic_server(env)  # asserts the x-api-key header is the saved key
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "pull", "anthropic", "--since", "2026-11-01", "--until", "2026-11-02"])
    assert r.exit_code == 0, r.output
    assert q(db, "SELECT sum(output_tokens) FROM api_usage") == [(2_000 + 20 + 500,)]  # --until is an included day


def test_the_keyring_is_asked_only_for_a_provider_whose_key_was_saved(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without 'logscan api login' the keyring is never loaded or asked (the daemon looks for keys
    every period); after it, the saved key is found."""
    import keyring

    from logscan.providers.keys import key_for, save_key

    for name in ("ANTHROPIC_ADMIN_KEY", "ANTHROPIC_ADMIN_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    ring = _MemoryKeyring()
    ring.store[("logscan", "openai")] = OKEY  # put there by something else than logscan
    asked: list[str] = []
    monkeypatch.setattr(keyring, "get_password", lambda s, u: asked.append(u) or ring.get_password(s, u))
    monkeypatch.setattr(keyring, "set_password", ring.set_password)
    assert key_for("openai") is None and key_for("anthropic") is None and asked == []
    save_key("anthropic", AKEY)
    assert key_for("anthropic") == AKEY and key_for("openai") is None and asked == ["anthropic"]
    save_key("openai", OKEY)
    assert key_for("openai") == OKEY


def test_login_without_a_keyring_backend_points_to_the_environment(isolated: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    import keyring.backends.fail

    monkeypatch.setattr(keyring, "set_password", keyring.backends.fail.Keyring().set_password)
    r = CliRunner().invoke(cli, ["--db", str(db), "api", "login", "openai"], input=OKEY + "\n")
    assert r.exit_code == 1
    assert "Could not save the key in the system keyring" in r.output and "OPENAI_ADMIN_KEY" in r.output
    assert OKEY not in r.output


def test_an_anthropic_cost_in_another_currency_is_kept_without_a_dollar_amount(env: HTTPServer, db: Path) -> None:
    env.expect_request("/v1/organizations/usage_report/messages").respond_with_json({"data": [], "has_more": False, "next_page": None})
    env.expect_request("/v1/organizations/cost_report").respond_with_json({"data": [{"starting_at": D1, "ending_at": D2, "results": [
        {"currency": "USD", "amount": "250", "description": "Claude Sonnet 4.5 Usage - Output Tokens"},
        {"currency": "EUR", "amount": "99.5", "description": "Claude Sonnet 4.5 Usage - Input Tokens"}]}], "has_more": False, "next_page": None})
    pull(db, "anthropic", datetime(2026, 11, 1), datetime(2026, 11, 2))
    assert q(db, "SELECT currency, amount_usd FROM api_costs ORDER BY currency") == [("EUR", None), ("USD", 2.5)]
