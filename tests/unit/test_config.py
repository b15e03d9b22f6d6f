"""Settings: defaults, environment overrides, production refusing missing secrets."""

import pytest

from config import ConfigError, load_config, networks


def test_default_uses_sqlite_under_the_instance_folder(tmp_path):
    settings = load_config("development", environ={"HELPDESK_INSTANCE_PATH": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}"
    assert settings["RAW_STORE_PATH"] == str(tmp_path / "store" / "raw")


def test_environment_overrides_are_typed():
    env = {"HELPDESK_SMTP_PORT": "2525", "HELPDESK_SCHEDULER_ENABLED": "false"}
    settings = load_config("development", environ=env)
    assert settings["SMTP_PORT"] == 2525
    assert settings["SCHEDULER_ENABLED"] is False


def test_bad_number_says_which_variable():
    with pytest.raises(ConfigError, match="HELPDESK_SMTP_PORT"):
        load_config("development", environ={"HELPDESK_SMTP_PORT": "twenty"})


def test_production_refuses_to_start_without_secret_database_and_address():
    with pytest.raises(
        ConfigError, match="HELPDESK_SECRET_KEY, HELPDESK_DATABASE_URL, HELPDESK_BASE_URL"
    ):
        load_config("production", environ={})


def test_production_refuses_a_short_secret():
    env = {
        "HELPDESK_SECRET_KEY": "short",
        "HELPDESK_DATABASE_URL": "postgresql://x/y",
        "HELPDESK_BASE_URL": "https://helpdesk.example.jp",
    }
    with pytest.raises(ConfigError, match="32 characters"):
        load_config("production", environ=env)


def test_production_with_its_secrets_starts_with_secure_cookies():
    env = {
        "HELPDESK_SECRET_KEY": "s" * 40,
        "HELPDESK_DATABASE_URL": "postgresql://x/y",
        "HELPDESK_BASE_URL": "https://helpdesk.example.jp/",
    }
    settings = load_config("production", environ=env)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["BASE_URL"] == "https://helpdesk.example.jp"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql://x/y"


@pytest.mark.parametrize(
    "value", ["helpdesk.example.jp", "ftp://helpdesk.example.jp", "https://", "https://h/?a=1"]
)
def test_base_url_must_be_a_web_address(value):
    with pytest.raises(ConfigError, match="HELPDESK_BASE_URL must be the address people open"):
        load_config("development", environ={"HELPDESK_BASE_URL": value})


def test_unknown_configuration_name():
    with pytest.raises(ConfigError, match="unknown configuration"):
        load_config("staging", environ={})


def test_environment_chooses_the_configuration():
    settings = load_config(environ={"HELPDESK_ENV": "testing"})
    assert settings["SCHEDULER_ENABLED"] is False


def test_metrics_networks_default_to_loopback_and_are_checked():
    settings = load_config("development", environ={})
    assert [str(n) for n in networks(settings["METRICS_ALLOW"])] == ["127.0.0.1/32", "::1/128"]
    allowed = load_config("development", environ={"HELPDESK_METRICS_ALLOW": "10.1.0.0/16 ::1"})
    assert [str(n) for n in networks(allowed["METRICS_ALLOW"])] == ["10.1.0.0/16", "::1/128"]
    with pytest.raises(ConfigError, match="HELPDESK_METRICS_ALLOW"):
        load_config("development", environ={"HELPDESK_METRICS_ALLOW": "10.1.0.0/33"})


def test_production_refuses_a_short_metrics_token():
    env = {
        "HELPDESK_SECRET_KEY": "s" * 40,
        "HELPDESK_DATABASE_URL": "postgresql://x/y",
        "HELPDESK_BASE_URL": "https://helpdesk.example.jp",
        "HELPDESK_METRICS_TOKEN": "guessable",
    }
    with pytest.raises(ConfigError, match="HELPDESK_METRICS_TOKEN"):
        load_config("production", environ=env)
    assert load_config("production", environ={**env, "HELPDESK_METRICS_TOKEN": "t" * 32})
