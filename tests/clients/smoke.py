"""Smoke test of the Python client openapi-python-client generated from /api/openapi.json:
register -> create session -> list -> QR -> API key, then the key alone lists sessions.
Usage: python smoke.py BASE_URL (the generated package `wahub_client` on PYTHONPATH)."""

import sys
import time
import uuid

from wahub_client import AuthenticatedClient, Client
from wahub_client.api.api_keys import create_api_key, list_api_keys
from wahub_client.api.auth import get_me, register
from wahub_client.api.sessions import create_session, get_session_qr, list_sessions
from wahub_client.models import (
    CreateApiKeyRequest,
    CreatedApiKey,
    CreateSessionRequest,
    Qr,
    RegisterRequest,
    Session,
    TokenResponse,
    UserOut,
)


def expect(value, kind, what):
    if not isinstance(value, kind):
        raise SystemExit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base: str) -> None:
    anon = Client(base_url=base, raise_on_unexpected_status=True)
    email = f"py-{uuid.uuid4().hex[:8]}@example.com"
    tokens = expect(
        register.sync(client=anon, body=RegisterRequest(email=email, password="correct horse battery")),
        TokenResponse,
        "register",
    )
    client = AuthenticatedClient(base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)
    me = expect(get_me.sync(client=client), UserOut, "me")
    assert me.email == email and me.display_name is None, me
    created = expect(
        create_session.sync(client=client, body=CreateSessionRequest(name="py smoke", start=True)), Session, "create"
    )
    assert created.phone is None and created.last_connected_at is None, created
    sessions = list_sessions.sync(client=client)
    assert [s.id for s in sessions] == [created.id], sessions
    qr = None
    deadline = time.monotonic() + 30
    while qr is None and time.monotonic() < deadline:
        answer = get_session_qr.sync(created.id, client=client)
        if isinstance(answer, Qr):
            qr = answer
        else:
            time.sleep(0.2)
    expect(qr, Qr, "qr")
    assert qr.value and qr.expires_at.tzinfo is not None, qr
    key = expect(
        create_api_key.sync(client=client, body=CreateApiKeyRequest(name="py smoke")), CreatedApiKey, "api key"
    )
    assert key.expires_at is None and key.last_used_at is None, key
    by_key = AuthenticatedClient(
        base_url=base, token=key.key, prefix="", auth_header_name="X-Api-Key", raise_on_unexpected_status=True
    )
    assert [s.id for s in list_sessions.sync(client=by_key)] == [created.id]
    assert [k.id for k in list_api_keys.sync(client=by_key)] == [key.id]
    print("python client: register, create session, list, QR, API key: ok")


if __name__ == "__main__":
    main(sys.argv[1])
