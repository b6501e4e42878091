"""The server's settings are parsed once, at the Voila entry, with errors that name the variable."""
import pytest

from al_widgets.app import guard, server_settings
from al_widgets.app.auth import KeyThrottle
from al_widgets.app.server_settings import ServerSettings


def test_defaults_and_overrides():
    s = ServerSettings.from_env({})
    assert (s.max_kernels, s.max_kernels_per_user, s.max_comms, s.max_frame, s.key_tries) == (8, 3, 16, 4 * 2**20, 10)
    assert s.users is None and s.parent_pid is None and s.revoke_every == 2.0
    s = ServerSettings.from_env({"AL_WIDGETS_MAX_COMMS": "5", "AL_WIDGETS_REVOKE_EVERY": "0.5",
                                 "AL_WIDGETS_USERS": "/x/users.json", "AL_WIDGETS_WARM_KERNELS": "0",
                                 "AL_WIDGETS_PARENT_PID": "123", "HOME": "/x"})
    assert (s.max_comms, s.revoke_every, s.users, s.warm_kernels, s.parent_pid) == (5, 0.5, "/x/users.json", 0, 123)


@pytest.mark.parametrize("name, raw", [("AL_WIDGETS_MAX_FRAME", "big"), ("AL_WIDGETS_MAX_KERNELS", "0"),
                                       ("AL_WIDGETS_KEY_TRIES", "-3"), ("AL_WIDGETS_REVOKE_EVERY", "0")])
def test_a_bad_value_is_refused_by_name(name, raw):
    with pytest.raises(ValueError, match=name):
        ServerSettings.from_env({name: raw})


def test_the_installed_settings_are_what_the_guards_enforce():
    before = server_settings.current()
    try:
        server_settings.install(ServerSettings(max_frame=100, max_comms=2, key_tries=1))
        limits = guard.MessageLimits()
        assert limits.check("k", 101, None) == "frame of 101 bytes (limit 100)"
        assert limits.check("k", 100, "comm_open") is None and limits.check("k", 10, "comm_open") is None
        assert "more than 2 widgets" in limits.check("k", 10, "comm_open")
        throttle = KeyThrottle()  # made before the settings, as the identity provider's is
        throttle.wrong("1.2.3.4")
        assert throttle.blocked("1.2.3.4")
        assert not guard.users_mode()
        server_settings.install(ServerSettings(users="/x/users.json"))
        assert guard.users_mode()
    finally:
        server_settings.install(before)


def test_every_setting_has_a_parse_rule():
    from dataclasses import fields

    from al_widgets.app.server_settings import NUMBERS, PATHS
    assert {f.name for f in fields(ServerSettings)} == PATHS | set(NUMBERS)
