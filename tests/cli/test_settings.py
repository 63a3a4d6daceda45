import pytest

from grader.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_settings__defaults_to_embedded_sqlite():
    settings = load_settings({})
    assert settings.database.url == DEFAULT_DATABASE_URL
    assert settings.database.is_sqlite


def test_settings__database_url_wins_and_pool_settings_are_read():
    settings = load_settings({
        "DATABASE_URL": "postgresql+asyncpg://u:pw@db/grader",
        "GRADER_DB_POOL_SIZE": "7", "GRADER_DB_POOL_RECYCLE": "900", "GRADER_DB_POOL_PRE_PING": "false",
    })
    assert settings.database.url == "postgresql+asyncpg://u:pw@db/grader"
    assert (settings.database.pool_size, settings.database.pool_recycle) == (7, 900)
    assert settings.database.pool_pre_ping is False


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "mysql://u:secretpw@h/db"}, "DATABASE_URL"),
        ({"GRADER_DB_POOL_SIZE": "many"}, "GRADER_DB_POOL_SIZE"),
        ({"GRADER_WORKERS": "two"}, "GRADER_WORKERS"),
        ({"GRADER_LEASE_SECONDS": "-1"}, "GRADER_LEASE_SECONDS"),
        ({"GRADER_LEASE_SECONDS": "5", "GRADER_HEARTBEAT_SECONDS": "9"}, "GRADER_HEARTBEAT_SECONDS"),
        ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL"),
        ({"GITHUB_APP_ID": "12"}, "GITHUB_APP_ID"),
        ({"GRADER_DB_ECHO": "maybe"}, "GRADER_DB_ECHO"),
        ({"GRADER_PACKAGE_INDEX_URL": "ftp://u:secretpw@mirror/simple"}, "GRADER_PACKAGE_INDEX_URL"),
        ({"GRADER_DEPS_CACHE_MB": "lots"}, "GRADER_DEPS_CACHE_MB"),
    ],
)
def test_settings__malformed_value_is_one_line_naming_the_variable(env, named):
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    message = str(raised.value)
    assert named in message
    assert "\n" not in message
    assert "secretpw" not in message


def test_settings__secrets_stay_out_of_repr():
    settings = load_settings({
        "DATABASE_URL": "postgresql+asyncpg://u:dbpassword@h/db", "GITHUB_WEBHOOK_SECRET": "hooksecret",
        "GITHUB_TOKEN": "ghp_tokenvalue", "GRADER_PACKAGE_INDEX_URL": "https://u:mirrorpw@mirror.example.org/simple",
    })
    text = repr(settings)
    for secret in ("dbpassword", "hooksecret", "ghp_tokenvalue", "mirrorpw"):
        assert secret not in text


def test_settings__dependencies_index_cache_and_proxy():
    settings = load_settings({"GRADER_PACKAGE_INDEX_URL": "file:///srv/wheels/simple/", "GRADER_DEPS_CACHE_MB": "512",
                              "GRADER_DEPS_CACHE_DIR": "/var/cache/grader-deps", "HTTPS_PROXY": "http://proxy:3128",
                              "GITHUB_TOKEN": "ghp_x"}).dependencies
    assert settings.index_url == "file:///srv/wheels/simple"
    assert (settings.cache_mb, str(settings.cache_dir)) == (512, "/var/cache/grader-deps")
    assert dict(settings.client_env) == {"HTTPS_PROXY": "http://proxy:3128"}
    assert load_settings({}).dependencies.index_url == "https://pypi.org/simple"
