"""Sign-in from a personal link, with jupyter_server's identity machinery (used by Voila).

``Voila.identity_provider_class = al_widgets.app.auth.PersonalLinkIdentityProvider`` with
``AL_WIDGETS_USERS`` naming the users file.  ``?key=SECRET`` signs a person in and sets a signed
cookie; without a valid key or cookie there is no page and no kernel (403, one line).
"""
from __future__ import annotations

import os
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web

from .users import Users

COOKIE = "al_widgets_user"


class SignInRequired(web.RequestHandler):
    """What a visitor without a valid link gets: one line, no form, no kernel."""

    def get(self) -> None:
        self.set_status(403)
        self.finish("Sign in with your personal link (ask the person who runs this labeling app).")

    post = get


class PersonalLinkIdentityProvider(IdentityProvider):
    """A user is whoever's secret link (or signed cookie) the request carries."""

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return False

    def users(self) -> Users:
        return Users(os.environ["AL_WIDGETS_USERS"])

    def get_user(self, handler: web.RequestHandler) -> User | None:
        users = self.users()
        key = handler.get_argument("key", None) if hasattr(handler, "get_argument") else None
        if key:
            found = users.by_key(key)
            if found is not None:
                handler.set_secure_cookie(COOKIE, found[0], httponly=True, samesite="strict")
                return User(username=found[0], name=found[0], display_name=found[0])
        raw = handler.get_secure_cookie(COOKIE)
        if raw:
            name = raw.decode("utf-8")
            if users.role(name) is not None:  # removed users are out at once
                return User(username=name, name=name, display_name=name)
        return None

    def get_handlers(self) -> list[tuple[str, Any]]:
        return [("/login", SignInRequired)]
