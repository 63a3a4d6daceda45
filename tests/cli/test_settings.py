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
        ({"GRADER_HTTP_HEADER_TIMEOUT": "0"}, "GRADER_HTTP_HEADER_TIMEOUT"),
        ({"GRADER_HTTP_BODY_TIMEOUT": "soon"}, "GRADER_HTTP_BODY_TIMEOUT"),
        ({"GRADER_WEBHOOK_MAX_PENDING": "-3"}, "GRADER_WEBHOOK_MAX_PENDING"),
        ({"GRADER_WEBHOOK_MAX_BODY_MB": "26"}, "GRADER_WEBHOOK_MAX_BODY_MB"),
        ({"GRADER_WEBHOOK_SPOOL_DIR": "/no/such/dir"}, "GRADER_WEBHOOK_SPOOL_DIR"),
        ({"GRADER_JSON_MAX_DEPTH": "deep"}, "GRADER_JSON_MAX_DEPTH"),
        ({"GRADER_SESSION_SECRET": "secretpw"}, "GRADER_SESSION_SECRET"),
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
def test_settings__edge_limits_are_read(tmp_path):
    settings = load_settings({
        "GRADER_HTTP_HEADER_TIMEOUT": "4", "GRADER_HTTP_BODY_TIMEOUT": "8.5", "GRADER_HTTP_IDLE_TIMEOUT": "3",
        "GRADER_HTTP_MAX_HEADER_KB": "8", "GRADER_JSON_MAX_DEPTH": "20", "GRADER_FORWARDED_ALLOW_IPS": "10.0.0.2",
        "GRADER_WEBHOOK_MAX_BODY_MB": "5", "GRADER_WEBHOOK_MAX_PENDING": "4", "GRADER_WEBHOOK_PENDING_WAIT": "0.5",
        "GRADER_WEBHOOK_MEMORY_KB": "128", "GRADER_WEBHOOK_SPOOL_DIR": str(tmp_path), "GRADER_SESSION_HOURS": "2",
    })
    http, webhook = settings.http, settings.webhook
    assert (http.header_timeout_seconds, http.body_timeout_seconds, http.idle_timeout_seconds) == (4, 8.5, 3)
    assert (http.max_header_bytes, http.max_json_depth, http.forwarded_allow_ips) == (8192, 20, "10.0.0.2")
    assert (webhook.max_body_bytes, webhook.max_pending_bodies, webhook.pending_wait_seconds) == (5 << 20, 4, 0.5)
    assert (webhook.memory_bytes, webhook.spool_dir) == (128 * 1024, tmp_path)
    assert settings.session.lifetime_seconds == 7200


def test_settings__workers_default_to_one_per_core_plus_one_and_standings_interval_is_read(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    settings = load_settings({"GRADER_STANDINGS_SECONDS": "0.5"})
    assert (settings.queue.workers, settings.queue.standings_seconds) == (3, 0.5)
    assert load_settings({"GRADER_WORKERS": "0"}).queue.workers == 0
    with pytest.raises(SettingsError, match="GRADER_STANDINGS_SECONDS"):
        load_settings({"GRADER_STANDINGS_SECONDS": "0"})
