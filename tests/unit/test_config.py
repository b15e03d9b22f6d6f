"""Settings: defaults, environment overrides, production refusing missing secrets."""

import stat

import pytest

from config import SECRET_KEY_FILE, ConfigError, load_config, networks


@pytest.fixture
def instance(tmp_path):
    """An instance folder of the test's own: load_config keeps its secret key there."""
    return {"HELPDESK_INSTANCE_PATH": str(tmp_path / "instance")}


def test_default_uses_sqlite_under_the_instance_folder(tmp_path):
    settings = load_config("development", environ={"HELPDESK_INSTANCE_PATH": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}"
    assert settings["RAW_STORE_PATH"] == str(tmp_path / "store" / "raw")


def test_environment_overrides_are_typed(instance):
    env = {"HELPDESK_SMTP_PORT": "2525", "HELPDESK_SCHEDULER_ENABLED": "false", **instance}
    settings = load_config("development", environ=env)
    assert settings["SMTP_PORT"] == 2525
    assert settings["SCHEDULER_ENABLED"] is False


def test_bad_number_says_which_variable(instance):
    with pytest.raises(ConfigError, match="HELPDESK_SMTP_PORT"):
        load_config("development", environ={"HELPDESK_SMTP_PORT": "twenty", **instance})


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
def test_base_url_must_be_a_web_address(value, instance):
    with pytest.raises(ConfigError, match="HELPDESK_BASE_URL must be the address people open"):
        load_config("development", environ={"HELPDESK_BASE_URL": value, **instance})


def test_unknown_configuration_name():
    with pytest.raises(ConfigError, match="unknown configuration"):
        load_config("staging", environ={})


def test_environment_chooses_the_configuration(instance):
    settings = load_config(environ={"HELPDESK_ENV": "testing", **instance})
    assert settings["SCHEDULER_ENABLED"] is False


@pytest.mark.parametrize("name", ["development", "testing"])
def test_each_instance_makes_a_secret_key_of_its_own(tmp_path, name):
    first = load_config(name, environ={"HELPDESK_INSTANCE_PATH": str(tmp_path / "a")})
    second = load_config(name, environ={"HELPDESK_INSTANCE_PATH": str(tmp_path / "b")})
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] != second["SECRET_KEY"]
    for old_constant in ("development-only-not-secret", "testing-not-secret"):
        assert old_constant not in (first["SECRET_KEY"], second["SECRET_KEY"])


def test_the_instance_key_is_kept_across_restarts_and_readable_only_by_its_owner(tmp_path):
    env = {"HELPDESK_INSTANCE_PATH": str(tmp_path)}
    key = load_config("development", environ=env)["SECRET_KEY"]
    assert load_config("development", environ=env)["SECRET_KEY"] == key
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.read_text() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_KEY_FILE]  # nothing left aside


def test_a_key_file_others_can_read_is_refused(tmp_path):
    env = {"HELPDESK_INSTANCE_PATH": str(tmp_path)}
    load_config("development", environ=env)
    (tmp_path / SECRET_KEY_FILE).chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config("development", environ=env)


def test_a_key_set_in_the_environment_is_used_and_no_file_is_made(tmp_path):
    env = {"HELPDESK_INSTANCE_PATH": str(tmp_path), "HELPDESK_SECRET_KEY": "k" * 40}
    assert load_config("development", environ=env)["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_metrics_networks_default_to_loopback_and_are_checked(instance):
    settings = load_config("development", environ=instance)
    assert [str(n) for n in networks(settings["METRICS_ALLOW"])] == ["127.0.0.1/32", "::1/128"]
    allowed = load_config(
        "development", environ={"HELPDESK_METRICS_ALLOW": "10.1.0.0/16 ::1", **instance}
    )
    assert [str(n) for n in networks(allowed["METRICS_ALLOW"])] == ["10.1.0.0/16", "::1/128"]
    with pytest.raises(ConfigError, match="HELPDESK_METRICS_ALLOW"):
        load_config("development", environ={"HELPDESK_METRICS_ALLOW": "10.1.0.0/33", **instance})


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
