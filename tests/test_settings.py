"""Settings and secrets: minimum key lengths, the development key file, private data files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.app import create_app
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.support.channels import post_twilio, twilio_form

LONG_KEY = "k" * 32


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with no PSEUDONYM_KEY set: where ``data/`` will be."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    return tmp_path / "data"


def production(**values: str) -> Settings:
    values.setdefault("handoff_key", "h" * 32)
    return Settings(_env_file=None, pana_env="production", **values)  # type: ignore[call-arg]


def test_production_refuses_short_keys_and_tokens() -> None:
    with pytest.raises(ValidationError, match="PSEUDONYM_KEY"):
        production()
    with pytest.raises(ValidationError, match="HANDOFF_KEY"):
        production(pseudonym_key=LONG_KEY, handoff_key="")
    with pytest.raises(ValidationError, match="HANDOFF_KEY"):
        production(pseudonym_key=LONG_KEY, handoff_key="h" * 31)
    with pytest.raises(ValidationError, match="PSEUDONYM_KEY"):
        production(pseudonym_key="k" * 31)
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        production(pseudonym_key=LONG_KEY, admin_token="a")
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        production(pseudonym_key=LONG_KEY, admin_token="a" * 31)
    assert production(pseudonym_key="ñ" * 16).secret_key == ("ñ" * 16).encode()  # 32 bytes
    assert production(pseudonym_key=LONG_KEY, admin_token="t" * 32).admin_token
    assert production(pseudonym_key=LONG_KEY).admin_token == ""  # no dashboard is fine


def test_a_short_pseudonym_key_is_refused_in_development_too() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(_env_file=None, pseudonym_key="short")  # type: ignore[call-arg]


def test_development_key_is_generated_once_private_and_long(data_folder: Path) -> None:
    key = Settings(_env_file=None).secret_key  # type: ignore[call-arg]
    path = data_folder / "pseudonym.key"
    assert len(key) == 64 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert Settings(_env_file=None).secret_key == key  # type: ignore[call-arg]
    assert [p.name for p in path.parent.iterdir()] == ["pseudonym.key"]  # no temporary left


def test_an_empty_key_file_is_refused_not_used_as_an_empty_key(data_folder: Path) -> None:
    data_folder.mkdir()
    (data_folder / "pseudonym.key").write_text("\n")
    with pytest.raises(ValueError, match="32"):
        _ = Settings(_env_file=None).secret_key  # type: ignore[call-arg]


def test_the_key_is_never_written_through_a_planted_symlink(data_folder: Path) -> None:
    data_folder.mkdir()
    elsewhere = data_folder.parent / "readable-by-all.txt"
    (data_folder / "pseudonym.key").symlink_to(elsewhere)
    with pytest.raises(OSError):
        _ = Settings(_env_file=None).secret_key  # type: ignore[call-arg]
    assert not elsewhere.exists()


def test_the_sqlite_database_and_its_folder_are_private(
    settings: Settings, kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "fresh-data"
    private = settings.model_copy(update={"database_url": f"sqlite:///{folder / 'pana.db'}"})
    with TestClient(create_app(private, kb)) as client:
        assert post_twilio(client, twilio_form("hola")).status_code == 200
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for name in ("pana.db", "pana.db-wal", "pana.db-shm"):
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
