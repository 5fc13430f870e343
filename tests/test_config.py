"""Settings come from one place, in a fixed order of precedence."""

from pathlib import Path

import pytest

from appliance.config import Settings, load_settings
from appliance.errors import ConfigError


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_are_the_simulation(tmp_path):
    settings = load_settings(config=tmp_path / "absent.toml", environ={})
    assert settings.simulate and settings.home == Path("var").absolute()
    assert settings.store_dir == settings.home / "store"
    assert settings.audit_dir == settings.home / "audit"


def test_device_file_then_environment_then_argument(tmp_path):
    config = write(tmp_path, 'home = "/var/lib/vigbox"\nstore = "/srv/vigbox"\n'
                             'simulate = false\nsync_interval = 2\n')
    settings = load_settings(config=config, environ={})
    assert (settings.home, settings.store_dir) == (Path("/var/lib/vigbox"), Path("/srv/vigbox"))
    assert settings.sync_interval == 2.0 and not settings.simulate
    env = {"VIGBOX_HOME": str(tmp_path / "env")}
    assert load_settings(config=config, environ=env).home == tmp_path / "env"
    from_arg = load_settings(tmp_path / "arg", config=config, environ=env)
    assert (from_arg.home, from_arg.store_dir) == (tmp_path / "arg", tmp_path / "arg" / "store")
    assert load_settings(environ=env, config=config).store_dir == tmp_path / "env" / "store"
    assert load_settings(store=tmp_path / "card", config=config,
                         environ={}).store_dir == tmp_path / "card"
    env_config = {"VIGBOX_CONFIG": str(config)}
    assert load_settings(environ=env_config).store_dir == Path("/srv/vigbox")


@pytest.mark.parametrize("text, complaint", [
    ("simulate = 'no'\n", "simulate"),
    ("sync_intreval = 1\n", "unknown settings"),
    ("scrypt_work_factor = 30\n", "outside"),
    ("scrypt_work_factor = 12\n", "outside"),
    ("home = 3\n", "path"),
    ("home = \n", "config.toml"),
    ("front = 'apache'\n", "front 'apache': choose one of nginx, none"),
])
def test_bad_settings_are_named(tmp_path, text, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_settings(config=write(tmp_path, text), environ={})


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().home = Path("/")


def test_lists_and_certificate_fields_are_read_and_checked(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('allowed_hosts = ["box.school.example", "10.0.0.1"]\nlocation = "Room 4"\n')
    settings = load_settings(config=path, environ={})
    assert settings.allowed_hosts == ("box.school.example", "10.0.0.1")
    assert settings.location == "Room 4"
    path.write_text('allowed_hosts = "box.school.example"\n')
    with pytest.raises(ConfigError, match="allowed_hosts.*list of strings"):
        load_settings(config=path, environ={})
