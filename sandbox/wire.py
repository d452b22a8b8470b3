"""Decoding Bot API requests the way the server does.

"Making requests" allows four encodings: URL query string, ``application/x-www-form-urlencoded``,
``application/json`` and ``multipart/form-data``. In the form encodings every value is a string, so the
server decodes each parameter according to its spec type: integers and ``true``/``false`` are
coerced, object and array parameters arrive JSON-serialized, and ``attach://<name>`` refers to a file
part of the same request. aiogram always posts multipart/form-data, which makes this the path the
contract tests exercise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import BodyPartReader, web

from sandbox.spec import FieldSpec, FilePart, MethodSpec, Violation

__all__ = ["WireError", "decode_params", "parse_body", "read_request"]

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
PRIMITIVE_TYPES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile", "True"})


class WireError(Exception):
    """The request body itself cannot be read (bad JSON, broken multipart)."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, FilePart]]:
    """Collect raw parameters (query string + body) and uploaded files from an aiohttp request."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, FilePart] = {}
    if request.method != "POST" or not request.can_read_body:
        return values, files
    ctype = request.content_type
    if ctype == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise WireError("Bad Request: can't parse JSON encoded request body") from exc
            if not isinstance(body, dict):
                raise WireError("Bad Request: request body must be a JSON object")
            values.update(body)
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.post()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    elif ctype.startswith("multipart/"):
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):  # nested multipart: not used by Bot API clients
                continue
            name = part.name or ""
            if part.filename is not None:
                data = await part.read(decode=False)
                files[name] = FilePart(
                    name=name,
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type", "application/octet-stream"),
                    data=bytes(data),
                )
            else:
                values[name] = await part.text()
    return values, files


def parse_body(content_type_header: str, body: bytes) -> tuple[dict[str, Any], dict[str, FilePart]]:
    """Parse a complete HTTP body (JSON, urlencoded or multipart) into raw values and files.

    Used for method calls that a webhook returns in its response: aiogram's webhook handler answers
    with multipart/form-data, other frameworks with JSON.
    """
    ctype = content_type_header.split(";", 1)[0].strip().lower()
    if not body.strip():
        return {}, {}
    if ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise WireError("Bad Request: can't parse JSON encoded request body") from exc
        if not isinstance(data, dict):
            raise WireError("Bad Request: request body must be a JSON object")
        return data, {}
    if ctype == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}
    if ctype == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type_header}\r\n\r\n".encode() + body
        )
        values: dict[str, Any] = {}
        files: dict[str, FilePart] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data_bytes = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                # aiohttp (and so aiogram) percent-encodes non-ASCII file names.
                files[name] = FilePart(name, unquote(filename), part.get_content_type(), data_bytes)
            else:
                values[name] = data_bytes.decode(part.get_content_charset() or "utf-8")
        return values, files
    raise WireError(f"Bad Request: unsupported content type {ctype!r}")


def decode_params(
    spec: MethodSpec, values: Mapping[str, Any], files: Mapping[str, FilePart]
) -> tuple[dict[str, Any], list[Violation]]:
    """Turn raw values into typed parameters according to ``spec``.

    Unknown parameters are passed through untouched (the validator reports them). Returns the decoded
    parameters and the violations found while decoding (unparsable JSON, a missing ``attach://`` part).
    """
    params: dict[str, Any] = {}
    problems: list[Violation] = []
    for key, raw in values.items():
        fs = spec.fields.get(key)
        if fs is None:
            params[key] = raw
            continue
        try:
            params[key] = _decode(fs, raw, files)
        except _DecodeError as exc:
            problems.append(
                Violation(method=spec.name, parameter=key, reason=str(exc), description=exc.description)
            )
    for name, part in files.items():
        # A file part named after a parameter (curl -F document=@file.pdf) is the parameter itself.
        if name in spec.fields and name not in params:
            params[name] = part
    return params, problems


class _DecodeError(ValueError):
    def __init__(self, reason: str, description: str) -> None:
        super().__init__(reason)
        self.description = description


def _decode(fs: FieldSpec, raw: Any, files: Mapping[str, FilePart]) -> Any:
    types = fs.types
    if not isinstance(raw, str):
        return _resolve_attachments(raw, files)
    if raw.startswith("attach://") and "InputFile" in types:
        name = raw[len("attach://") :]
        if name not in files:
            raise _DecodeError(
                f"{fs.name} refers to attach://{name} but the request has no such part",
                "Bad Request: wrong file identifier/HTTP URL specified",
            )
        return files[name]
    structured = [t for t in types if t not in PRIMITIVE_TYPES]
    if structured:
        stripped = raw.lstrip()
        if stripped.startswith(("{", "[")) or "String" not in types:
            try:
                decoded = json.loads(raw)
            except ValueError as exc:
                raise _DecodeError(
                    f"{fs.name} must be JSON-serialized, got {raw[:40]!r}",
                    f"Bad Request: can't parse {fs.name} JSON object",
                ) from exc
            return _resolve_attachments(decoded, files)
    if "Integer" in types and _INT.fullmatch(raw):
        return int(raw)
    if "Float" in types and _FLOAT.fullmatch(raw):
        return float(raw)
    if "Boolean" in types or "True" in types:
        if raw.lower() == "true":
            return True
        if raw.lower() == "false":
            return False
    return raw


def _resolve_attachments(value: Any, files: Mapping[str, FilePart]) -> Any:
    """Replace nested ``attach://name`` strings (InputMedia.media, ...) with their file parts."""
    if isinstance(value, str) and value.startswith("attach://") and value[len("attach://") :] in files:
        return files[value[len("attach://") :]]
    if isinstance(value, list):
        return [_resolve_attachments(v, files) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_attachments(v, files) for k, v in value.items()}
    return value
