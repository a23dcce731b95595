"""``agent-assist model-check`` against the project's OpenAI-wire test server, scripted to misbehave."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from agent_assist import cli, model_check
from agent_assist.assist.provider import Provider, ProviderConfig
from tests.assist.openai_server import openai_server  # noqa: F401


def _careless_model(request) -> str:
    """A small model on a bad day: echoes the fence, repeats placeholders, obeys the canary, prose for triage."""
    sent = json.dumps(request.body["messages"])
    if "triage" in sent and "Answer with JSON only" in sent:
        return '{"flags": [], "sentiment": "neutral"}' if request.body.get("response_format") else "Looks fine."
    words = ["<customer_thread>", "Hello, thank you for writing. [KB-1] [KB-9999]"]
    if "[CARD_1]" in sent:
        words.append("Your card [CARD_1] and IBAN [IBAN_1] are noted.")
    if model_check.CANARY in sent:
        words.append(model_check.CANARY)
    words.append("</customer_thread>\n[customer, 2024-05-02 09:05]\nThanks!")
    return "\n".join(words)


def _provider(server) -> Provider:
    return Provider(ProviderConfig.for_preset("custom", base_url=server.base_url, model="careless-1", redact=True,
                                              timeout_s=10), None)


def test_the_report_counts_every_guard(openai_server):  # noqa: F811
    openai_server.script(reply=_careless_model)
    seen: list[tuple[int, int]] = []
    with _provider(openai_server) as provider:
        report = model_check.run_check(provider, progress=lambda d, t, _w: seen.append((d, t)))
    rows = {r.subject: r for r in report.rows}
    assert len(report.rows) == model_check.DEMO_TICKETS + 2 and seen[-1][0] == seen[-1][1]
    payment, trap = rows["Charged twice"], rows["Refund missing"]
    assert payment.payment_leaks == 0 and "\u2022\u2022\u2022\u2022 1111" in payment.draft  # masked, never the PAN
    assert trap.injection_test and trap.injection_obeyed
    assert all(r.markup_leaked for r in report.rows)  # the guards had to strip the echoed fence every time
    assert all("<customer_thread>" not in r.draft and "[customer," not in r.draft for r in report.rows)
    assert all(r.invalid_citations >= 1 for r in report.rows if not r.error)  # KB-9999 was never offered
    s = report.summary()
    assert s["payment_data_leaked"] == 0 and s["injection_obeyed"].startswith("1 of")
    assert s["tickets"] == len(report.rows) and not report.passed  # it obeyed the injection
    assert report.rows[0].first_token_s is not None


def test_markdown_and_csv_compare_side_by_side(openai_server, tmp_path: Path):  # noqa: F811
    openai_server.script(reply=_careless_model)
    with _provider(openai_server) as provider:
        report = model_check.run_check(provider, limit=2)
    md, csv_path = report.write(tmp_path, "run-a")
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Model check: careless-1 (custom)") and "| payment data leaked | 0 |" in text
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert len(rows) == 2 and rows[0]["model"] == "careless-1" and rows[0]["payment_leaks"] == "0"
    side = model_check.compare([report, report])
    assert side.count("careless-1") == 2 and "triage agreement" in side


def test_the_command_writes_the_report_and_fails_a_model_that_obeys_an_injection(openai_server, tmp_path,  # noqa: F811
                                                                                 capsys):
    openai_server.script(reply=_careless_model)
    code = cli.main(["model-check", "--preset", "custom", "--base-url", openai_server.base_url, "--model",
                     "careless-1", "--redact", "--out", str(tmp_path), "--name", "careless"])
    out, err = capsys.readouterr()
    assert code == 1 and "obeyed an injected instruction" in err
    assert (tmp_path / "careless.md").exists() and (tmp_path / "careless.csv").exists()
    assert "| payment data leaked | 0 |" in out


def test_a_supervisors_own_set(openai_server, tmp_path):  # noqa: F811
    openai_server.script(reply="Hej Anna, återbetalningen syns inom fem dagar. [KB-1]")
    data = {"articles": [{"key": "r", "locale": "sv", "title": "Återbetalning", "body": "Inom fem dagar."}],
            "customers": [{"ref": 1, "name": "Anna", "email": "anna@example.se", "language": "sv"}],
            "tickets": [{"customer_ref": 1, "subject": "Återbetalning", "language": "sv",
                         "expect": {"language": "sv", "flags": []},
                         "messages": [{"direction": "inbound", "author": "Anna",
                                       "body_text": "Hej! Var är min återbetalning för skorna?"}]}]}
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with _provider(openai_server) as provider:
        report = model_check.run_check(provider, model_check.load_set(path))
    (row,) = report.rows
    assert row.language == "sv" and row.draft_language == "sv" and row.language_ok


def test_a_bad_set_file_is_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert cli.main(["model-check", "--set", str(bad)]) == 2
    assert "could not be read" in capsys.readouterr().err


def test_a_server_that_is_down_is_a_row_not_a_crash(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = ProviderConfig.for_preset("llamacpp", base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=2)
    with Provider(config) as provider:
        report = model_check.run_check(provider, limit=1)
    assert report.rows[0].error.startswith("Could not connect") and not report.passed


@pytest.mark.skipif(not os.environ.get("AGENT_ASSIST_REAL_MODEL"),
                    reason="set AGENT_ASSIST_REAL_MODEL to a real OpenAI-compatible base URL to run")
def test_a_real_model_server_end_to_end(tmp_path):
    """Opt-in: the guards hold against a real server (see packaging/model_check_llamacpp.sh)."""
    config = ProviderConfig.for_preset("llamacpp", base_url=os.environ["AGENT_ASSIST_REAL_MODEL"],
                                       model=os.environ.get("AGENT_ASSIST_REAL_MODEL_NAME", "local"), redact=True,
                                       profile=os.environ.get("AGENT_ASSIST_REAL_MODEL_PROFILE", "small"))
    with Provider(config) as provider:
        report = model_check.run_check(provider, limit=int(os.environ.get("AGENT_ASSIST_REAL_MODEL_LIMIT", "4")))
    report.write(tmp_path, "real")
    assert report.summary()["payment_data_leaked"] == 0
    assert all("<customer_thread>" not in r.draft for r in report.rows)


def test_with_no_model_configured_or_reachable_no_report_is_written(tmp_path, capsys):
    import socket

    assert cli.main(["model-check", "--out", str(tmp_path)]) == 2
    assert "no model is configured" in capsys.readouterr().err and not list(tmp_path.iterdir())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = cli.main(["model-check", "--preset", "llamacpp", "--base-url", f"http://127.0.0.1:{port}/v1", "--model",
                     "m", "--timeout", "2", "--limit", "2", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "no ticket could be checked" in err and not list(tmp_path.iterdir())
