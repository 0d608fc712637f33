"""The project's errors share one root, say whether waiting cures them, and end a command cleanly."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import pipeline
from pipeline.codec.errors import RegistryUnavailableError, UnknownSchemaError
from pipeline.errors import HstError, PermanentError, TransientError
from pipeline.stack.servers import StackError
from pipeline.stream.batches import is_transient


def _project_exceptions() -> list[type[BaseException]]:
    found = []
    for module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        mod = importlib.import_module(module.name)
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == mod.__name__:
                found.append(obj)
    return found


def test_every_error_the_project_defines_is_an_hst_error() -> None:
    errors = _project_exceptions()
    assert len(errors) > 15
    assert [e.__qualname__ for e in errors if not issubclass(e, HstError)] == []


def test_the_stream_holds_transient_errors_and_dead_letters_the_others() -> None:
    assert is_transient(RegistryUnavailableError("registry: 503"))
    assert is_transient(TransientError("later"))
    assert not is_transient(UnknownSchemaError("no schema 7"))
    assert not is_transient(PermanentError("bad record"))
    # A project error says its kind, whatever its standard-library base.
    assert isinstance(StackError("x"), RuntimeError) and not is_transient(StackError("x"))


def test_a_project_error_escaping_a_command_ends_with_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pipeline.cli.main as cli

    def failing() -> None:
        raise StackError("kafka did not start: see /tmp/kafka.log [port 19092]")

    monkeypatch.setattr(cli, "app", failing)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "error: kafka did not start: see /tmp/kafka.log [port 19092]" in err
    assert "Traceback" not in err
