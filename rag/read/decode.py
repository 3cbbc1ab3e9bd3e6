"""Bytes of a text file to str: BOMs, UTF-16 without one, legacy Arabic code pages; binary is refused."""
from __future__ import annotations

from .. import strings
from .base import ReadError


def decode(data: bytes, source: str) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # NUL bytes without a UTF-16 BOM: try UTF-16 by its shape, else it is binary.
        if _looks_utf16(data):
            return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        raise ReadError(source, strings.REASON_BINARY)
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1256", "windows-1252", "iso-8859-6", "utf_16", "latin_1"]).best()
    if best is None or control_ratio(str(best)) > 0.05:
        raise ReadError(source, strings.REASON_BINARY)
    return str(best)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0), odd.count(0)) > 0.3 * (len(sample) / 2) and min(even.count(0), odd.count(0)) < 0.05 * (len(sample) / 2)


def control_ratio(text: str) -> float:
    if not text:
        return 1.0
    bad = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / min(len(text), 20000)
