"""The VDXP SDK's door (`adapters.dialects.vdxpsdk`): a vendor points the SDK's `endpoint` at
`{base}/vdxp-sdk` and its `sendEdoc` goes through the same core as a call in the bus's own
dialect (`qlvb` send_document, or post_status for a status message), same rights, audit and
journal.

The call's `XroadVnpt-*` HMAC is checked against the system's sealed secret
(`lgsp.dialects.tokens.sdk_secret`; `lgsp clients create --dialect vdxpsdk` keeps it) before
anything else; the body is bounded and must be the file its signed `hash-file` names. A call
refused here still reaches the core, without credentials, so that its refusal is recorded like
any other; the caller reads the SDK's `{status: FAIL, ErrorCode, ErrorDesc}` with the door's
stable code. Only `sendEdoc` is offered; the SDK's other calls are answered as unknown paths.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Scope, Send

from adapters.dialects import vdxpsdk as sdk
from formats.dates import VIETNAM_TIME
from lgsp.auth.keys import KeyCipher
from lgsp.dialects.door import Door, DoorCall
from lgsp.dialects.exchange import (
    KEPT_FROM_CORE,
    Answer,
    body_once,
    problem_of,
    read_body,
    respond,
)
from lgsp.dialects.tokens import digest, sdk_secret

SEND = "/sendEdoc"
_DROPPED = (b"content-type", b"content-length", b"user-agent", b"authorization")
_UNKNOWN_SYSTEM = "-\x00-"
"""The key an unknown system's call is checked with, so that it costs what a known one does."""


class VdxpSdkDoor(Door):
    prefix = "vdxp-sdk"

    async def serve(self, call: DoorCall) -> None:
        scope, receive, send = call.scope, call.receive, call.send
        if call.relative != SEND or scope["method"] != "POST":
            answer = await self._to_core(
                scope, receive, base=call.base, relative=call.relative, bus_path=None,
                credential=None,
            )  # fmt: skip
            await _answer_sdk(send, answer, None)
            return
        settings = call.bus.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = await read_body(receive, limit=settings.vdxp_sdk_max_file_bytes)
        if body is None:
            limit = settings.vdxp_sdk_max_file_bytes
            failure = sdk.failure("TOO_LARGE", f"The file is larger than {limit} bytes.")
            await respond(send, 413, failure)
            return
        verdict: sdk.SdkRefusal | None = None
        credential, messagetype, data = None, "edoc", body
        try:
            signed, secret = await self._verified(call, headers)
            data = await _file(body, headers.get("content-type", ""), signed.entries["hash-file"])
            messagetype = signed.entries.get("messagetype", "edoc")
            known = await self._client_token(
                scope, call.base, key=digest(f"{signed.system_id}:{secret}"),
                client_id=signed.system_id, secret=secret,
            )  # fmt: skip
            if known is None:
                raise sdk.SdkRefusal("SIGNATURE_INVALID", "The system may not call the bus.")
            credential = f"Bearer {known[0]}"
        except sdk.SdkRefusal as error:
            verdict = error
        path = "documents"
        if messagetype == "status" and credential is not None:
            try:
                path = f"documents/{sdk.status_document_key(data)}/status"
            except sdk.SdkRefusal as error:
                await respond(send, 422, sdk.failure(error.code, str(error)))
                return
        scope = _as_edxml(scope, len(data))
        answer = await self._to_core(
            scope, body_once(data), base=call.base, relative=f"/qlvb/v1/{path}",
            bus_path=lambda service, version, rest: (service, version, rest),
            credential=credential,
        )  # fmt: skip
        await _answer_sdk(send, answer, verdict)

    async def _verified(
        self, call: DoorCall, headers: dict[str, str]
    ) -> tuple[sdk.SignedCall, str]:
        """The call's signature checked under its system's secret (an unknown system's under
        a key no system has, so that both fail alike and in like time)."""
        system_id = sdk.claimed_system(headers)
        cipher = KeyCipher.existing(call.bus.settings)
        secret = await sdk_secret(
            call.bus.session_factory, cipher, instance=self.instance, client_id=system_id
        )
        skew = timedelta(seconds=call.bus.settings.vdxp_sdk_max_skew_seconds)
        signed = sdk.verify(
            headers,
            secret if secret is not None else _UNKNOWN_SYSTEM,
            now=datetime.now(VIETNAM_TIME),
            max_skew=skew,
            require=("hash-file",),
        )
        if secret is None:
            raise sdk.SdkRefusal("SIGNATURE_INVALID", "The signature does not hold.")
        return signed, secret


async def _file(body: bytes, content_type: str, declared: str) -> bytes:
    """The file the call carries: the raw body (the SDK's octet-stream, whose trailing CRLF is
    not the file's) or the `file_doc` part of a multipart form; it must match `hash-file`."""
    candidates = [body, body.removesuffix(b"\r\n")]
    if content_type.lower().startswith("multipart/form-data"):
        candidates = [await _form_file(body, content_type)]
    for candidate in candidates:
        if sdk.file_matches(candidate, declared):
            return candidate
    raise sdk.SdkRefusal("FILE_HASH_MISMATCH", "The file is not the one XroadVnpt-hash-file names.")


async def _form_file(body: bytes, content_type: str) -> bytes:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        Headers({"content-type": content_type}), stream(), max_files=1, max_fields=8
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise sdk.SdkRefusal("INVALID_MULTIPART", str(error)) from None
    part = form.get("file_doc")
    if not isinstance(part, UploadFile):
        part = next((v for v in form.values() if isinstance(v, UploadFile)), None)
    try:
        if part is None:
            raise sdk.SdkRefusal("INVALID_MULTIPART", "The form has no file part (file_doc).")
        return await part.read()
    finally:
        await form.close()


def _as_edxml(scope: Scope, length: int) -> Scope:
    """The scope with the file as an edXML body: the SDK's own headers stay at the door."""
    headers = [
        (k, v)
        for k, v in scope["headers"]
        if k.lower() not in _DROPPED and not k.lower().startswith(b"xroadvnpt-")
    ]
    headers += [(b"content-type", b"application/xml"), (b"content-length", str(length).encode())]
    return {**scope, "headers": headers}


async def _answer_sdk(send: Send, answer: Answer, verdict: sdk.SdkRefusal | None) -> None:
    """The core's answer in the SDK's form: `DocId` is the document's id in the bus."""
    if not answer.translatable:
        await answer.replay(send)
        return
    status, document = answer.status, problem_of(answer.body)
    kept = [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]
    reply: dict[str, Any]
    if verdict is not None:
        status, reply = 401, sdk.failure(verdict.code, str(verdict))
    elif status < 400:
        reply = {**sdk.success(str(document.get("id") or "") or None), "Answer": document}
    else:
        code = document.get("code")
        detail = document.get("detail") or document.get("title") or "Refused."
        reply = sdk.failure(code if isinstance(code, str) else str(status), str(detail))
        if isinstance(document.get("rule"), str):
            reply["Rule"] = document["rule"]
    await respond(send, status, reply, kept=kept)
    if answer.failure is not None:
        raise answer.failure
