"""A server's refusal or silence ends a command with one line an operator can act on."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import AuthenticationException, NotFoundError

from pipeline.cli import main as cli_main
from pipeline.cli.common import server_failure


def _meta(status: int) -> ApiResponseMeta:
    return ApiResponseMeta(
        status=status,
        http_version="1.1",
        headers=HttpHeaders(),
        duration=0.01,
        node=NodeConfig("http", "127.0.0.1", 9200),
    )


def test_refused_credentials_name_the_settings_to_check() -> None:
    exc = AuthenticationException("security_exception", meta=_meta(401), body={})
    line = server_failure(exc)
    assert line is not None and "HTTP 401" in line and "HST_SEARCH_PASSWORD" in line


def test_other_refusals_silence_and_broker_errors_are_described() -> None:
    missing = server_failure(NotFoundError("index_not_found_exception", meta=_meta(404), body={}))
    assert missing is not None and "HTTP 404" in missing
    silent = server_failure(ConnectionError("connection refused"))
    assert silent is not None and "did not answer" in silent
    broker = server_failure(KafkaException(KafkaError(KafkaError._TRANSPORT)))
    assert broker is not None and broker.startswith("the broker")
    assert server_failure(ValueError("a defect")) is None


def test_the_command_ends_with_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused() -> None:
        raise AuthenticationException("security_exception", meta=_meta(401), body={})

    monkeypatch.setattr(cli_main, "app", refused)
    with pytest.raises(SystemExit) as ended:
        cli_main.main()
    assert ended.value.code == 1
    err = capsys.readouterr().err
    assert "refused our credentials" in err and "Traceback" not in err


def test_a_defect_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def defect() -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(cli_main, "app", defect)
    with pytest.raises(ZeroDivisionError):
        cli_main.main()
