"""Sign-in from a personal link, with jupyter_server's identity machinery (used by Voila).

``Voila.identity_provider_class = al_widgets.app.auth.PersonalLinkIdentityProvider`` with
``AL_WIDGETS_USERS`` naming the users file.  ``?key=SECRET`` signs a person in: the server sets
a signed cookie and redirects to the same address without the key (so it leaves the address
bar, the history and Referer headers).  Without a valid key or cookie there is no page and no
kernel (403, one line).

The cookie carries the person's name and a *version* of their entry in the users file
(:meth:`Users.version`): renewing the link, changing the role or removing the person makes
every cookie given out before worthless at once.  Wrong keys are counted per client address:
past ``AL_WIDGETS_KEY_TRIES`` (default 10) a minute, that address's keys are refused for the
rest of the minute, and the server log says so (the keys themselves are never logged).
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web

from .server_settings import current
from .users import Users

COOKIE = "al_widgets_user"
COOKIE_DAYS = 7
log = logging.getLogger("al_widgets.auth")


class SignInRequired(web.RequestHandler):
    """What a visitor without a valid link gets: one line, no form, no kernel."""

    def get(self) -> None:
        self.set_status(403)
        self.finish("Sign in with your personal link (ask the person who runs this labeling app).")

    post = get


class KeyThrottle:
    """At most ``tries`` wrong keys per client address in ``window`` seconds."""

    def __init__(self, tries: int | None = None, window: float = 60.0) -> None:
        self._tries = tries  # None: the server's setting (installed at start, after this class is made)
        self.window = window
        self._wrong: dict[str, deque] = defaultdict(deque)

    @property
    def tries(self) -> int:
        return self._tries if self._tries is not None else current().key_tries

    def _recent(self, who: str, now: float) -> deque:
        q = self._wrong[who]
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def blocked(self, who: str) -> bool:
        return len(self._recent(who, time.monotonic())) >= self.tries

    def wrong(self, who: str) -> None:
        now = time.monotonic()
        q = self._recent(who, now)
        q.append(now)
        if len(q) == self.tries:
            log.warning("al_widgets: %d wrong sign-in keys from %s within %.0f s; its keys are refused for "
                        "%.0f s", self.tries, who, self.window, self.window)
        if len(self._wrong) > 10_000:  # bounded memory, whatever the number of addresses
            for k in [k for k, v in self._wrong.items() if not v][:5_000]:
                del self._wrong[k]


def is_https(handler: web.RequestHandler) -> bool:
    """The browser reached us over https (directly, or through a proxy that says so)."""
    proto = handler.request.headers.get("X-Forwarded-Proto", handler.request.protocol)
    return proto.split(",")[0].strip().lower() == "https"


def without_key(handler: web.RequestHandler) -> str:
    """The request's path and query with ``key`` removed."""
    query = [(k, v) for k, v in parse_qsl(handler.request.query, keep_blank_values=True) if k != "key"]
    return handler.request.path + (f"?{urlencode(query)}" if query else "")


class PersonalLinkIdentityProvider(IdentityProvider):
    """A user is whoever's secret link (or current signed cookie) the request carries."""

    throttle = KeyThrottle()

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return False

    def users(self) -> Users:
        return Users(current().users)

    def get_user(self, handler: web.RequestHandler) -> User | None:
        handler.set_header("Referrer-Policy", "no-referrer")
        users = self.users()
        key = handler.get_argument("key", None) if hasattr(handler, "get_argument") else None
        if key:
            user = self._sign_in(handler, users, key)
            if user is not None:
                return user
        raw = handler.get_secure_cookie(COOKIE, max_age_days=COOKIE_DAYS)
        if raw:
            version, _, name = raw.decode("utf-8", "replace").partition(":")
            if name and users.version(name) == version:  # removed or renewed users are out at once
                return User(username=name, name=name, display_name=name)
        return None

    def _sign_in(self, handler: web.RequestHandler, users: Users, key: str) -> User | None:
        who = handler.request.remote_ip or "?"
        if self.throttle.blocked(who) or len(key) > 200:
            return None
        found = users.by_key(key)
        if found is None:
            self.throttle.wrong(who)
            return None
        name = found[0]
        handler.set_secure_cookie(COOKIE, f"{users.version(name)}:{name}", expires_days=COOKIE_DAYS,
                                  httponly=True, samesite="strict", secure=is_https(handler))
        if handler.request.method in ("GET", "HEAD") and not _is_websocket(handler):
            handler.redirect(without_key(handler))  # the key leaves the address bar at once
        return User(username=name, name=name, display_name=name)

    def get_handlers(self) -> list[tuple[str, Any]]:
        return [("/login", SignInRequired)]


def _is_websocket(handler: web.RequestHandler) -> bool:
    return handler.request.headers.get("Upgrade", "").lower() == "websocket"
