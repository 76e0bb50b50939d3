"""JSON without the ``json`` package: importing it pulls in ``re`` and ``enum`` (about 15-20 ms
on a slow machine), which is most of the statusline's 50 ms budget. CPython's C scanner and
string encoder (``_json``) do the real work; other interpreters fall back to ``json``."""

from __future__ import annotations

try:
    import _json

    class _Ctx:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = float  # NaN / Infinity, as json.loads does
        memo: dict[object, object] = {}

    _scan = _json.make_scanner(_Ctx())
    _enc = _json.encode_basestring_ascii

    def loads(s: str | bytes) -> object:
        if isinstance(s, bytes):
            s = s.decode("utf-8", "surrogatepass")
        s = s.strip()
        try:
            obj, end = _scan(s, 0)
        except StopIteration:
            raise ValueError("not JSON") from None
        finally:
            _Ctx.memo.clear()
        if end != len(s):
            raise ValueError("extra data after the JSON value")
        return obj

except ImportError:  # pragma: no cover - not CPython
    import json

    loads = json.loads  # type: ignore[assignment]
    _enc = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def dumps(v: object) -> str:
    """Compact JSON for plain data: dict, list, str, int, float, bool, None."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _enc(v)  # type: ignore[no-any-return]
    if isinstance(v, (int, float)):
        if v != v or v in (float("inf"), float("-inf")):
            return "null"
        return repr(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{_enc(str(k))}:{dumps(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    raise TypeError(f"cannot encode {type(v).__name__}")
