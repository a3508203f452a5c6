"""One setting times an engine turn: Rasa's own response timeout, which the gateway outwaits
(a gateway giving up first would queue the turn again while the engine still runs it)."""

from __future__ import annotations

from pathlib import Path

from bot.engine import gateway_wait
from bot.enginectl import EngineConfig, EngineProcess
from bot.settings import Settings


def test_the_gateway_waits_longer_than_the_engine_started_with_the_same_setting(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, engine_timeout=12.5)  # type: ignore[call-arg]
    engine = EngineProcess(
        EngineConfig(
            model=tmp_path / "model.tar.gz",
            port=5005,
            token="t",
            action_url="http://127.0.0.1:8080/webhooks/actions",
            action_token="a",
            tracker_db=tmp_path / "tracker.db",
            response_timeout=settings.engine_timeout,
        )
    )
    command = engine.command()
    engine_timeout = int(command[command.index("--response-timeout") + 1])
    assert engine_timeout == 13, "whole seconds, never shorter than the setting"
    assert gateway_wait(settings.engine_timeout) > engine_timeout
