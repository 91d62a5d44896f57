"""Rasa's REST channel, answering only requests signed with Heard's secret (a JWT in the
Authorization header, as Rasa's own HTTP API checks), so nothing else on this machine can
talk as a child. credentials.yml names it; its webhook stays /webhooks/rest/webhook."""
from __future__ import annotations

import os

import jwt
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from rasa_server import SECRET_VARIABLE


def signed(request: Request, secret: str) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        return False
    try:
        jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return False
    return True


class SignedRestInput(RestInput):
    def blueprint(self, on_new_message) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        secret = os.environ.get(SECRET_VARIABLE, "")

        @blueprint.middleware("request")
        async def only_heard(request: Request):
            if not secret or not signed(request, secret):
                return response.json({"error": "Not authorised."}, status=401)
            return None

        return blueprint
