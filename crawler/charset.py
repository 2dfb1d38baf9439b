"""Which encoding a page or feed is really in, when what it says about itself may be a lie.

:func:`decode` takes the body bytes and the HTTP Content-Type and returns a :class:`Decoded`:
the text, the encoding that won, what was declared (and where), how many byte sequences no
candidate could read (left as U+FFFD), and how many mojibake markers the text holds. The
order, each step only when the one before gave nothing that reads the bytes cleanly:

1. a byte order mark (or, for XML, the UTF-16/32 pattern of ``<`` without one) decides;
2. the declarations: the HTTP header's charset, then the document's own (``<meta charset>``
   / ``http-equiv``, or the XML declaration), each resolved as browsers do (w3lib: Scrapy's
   own machinery) and read through its usual superset (Shift_JIS as cp932, then
   shift_jis_2004; EUC-JP as euc_jp, then euc_jis_2004 for the NEC row-13 ① they carry);
3. UTF-8 when the bytes are valid UTF-8 with non-ASCII in them: legacy Japanese or Western
   text is practically never valid UTF-8 by accident, while UTF-8 labelled Shift_JIS or
   latin-1 is a common lie (``日本`` read as cp932 is ``譌･譛ｬ``, and decodes cleanly);
4. a detector (charset-normalizer), for bytes no declaration reads (for XML and JSON, which
   are UTF-8 when nothing is declared, only a multibyte guess).

A single-byte code page (latin-1, cp1252, …) decodes any bytes at all, so "it decoded" proves
nothing: it never wins over a multibyte candidate that reads the bytes cleanly, never when its
text carries mojibake markers (UTF-8 read as cp1252: ``Ã©``, ``â€™``, ``ã\\x81\\x82``,
``æ—¥``), and the detector's single-byte guess never replaces a declaration. When nothing
reads every byte, the candidate that leaves the fewest invalid sequences is used, each of
them replaced (by ``replacement``: U+FFFD unless the caller wants to find them again), and
``invalid`` says how many: the caller must not publish that text as clean.
"""

from __future__ import annotations

import codecs
import functools
import importlib
import re
from dataclasses import dataclass, field

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom
from w3lib.encoding import resolve_encoding as _w3lib_resolve

__all__ = [
    "MARK", "Decoded", "decode", "family", "looks_like_mojibake", "mojibake_markers", "resolve",
    "wide_pattern",
]

REPLACEMENT = "\ufffd"

# Where a declaration was read (Decoded.declared, the log lines).
HEADER, META, XML_DECLARATION = "HTTP header", "meta", "XML declaration"

# The legacy Japanese encodings through the codecs Python reads them best with: the usual
# superset first, then the JIS X 0213 one for the characters only it has.
_FAMILIES = {
    "cp932": ("cp932", "shift_jis_2004"),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift_jis_2004": ("shift_jis_2004", "cp932"),
    "shift_jisx0213": ("shift_jisx0213", "cp932"),
    "euc_jp": ("euc_jp", "euc_jis_2004"),
    "euc_jis_2004": ("euc_jis_2004", "euc_jp"),
    "euc_jisx0213": ("euc_jisx0213", "euc_jp"),
}
# Tried, undeclared, when nothing reads every byte (the sources are Japanese first).
_LIKELY = ("cp932", "euc_jp")
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")

# Mojibake: UTF-8 read as cp1252 or latin-1. A lead byte (Â..ô) followed by as many
# continuation bytes as it needs, each continuation read as a cp1252 or latin-1 character; a
# match counts only when its characters, encoded back, are valid UTF-8 (see _markers).
_CONTINUATION = "".join(sorted(
    {chr(b) for b in range(0x80, 0xC0)}
    | {bytes([b]).decode("cp1252") for b in range(0x80, 0xC0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
))
_C = f"[{re.escape(_CONTINUATION)}]"
_MOJIBAKE = re.compile(f"[\u00c2-\u00df]{_C}|[\u00e0-\u00ef]{_C}{{2}}|[\u00f0-\u00f4]{_C}{{3}}")
_LATIN_LEADS = re.compile("[\u00c2-\u00f4]")


def _register() -> None:
    # The caller's replacement character for invalid bytes (U+FFFD, or a marker it finds the
    # replaced bytes by): one character per invalid sequence, as errors="replace" gives.
    for name, char in (("defnews-fffd", REPLACEMENT), ("defnews-mark", "\U0010fffd")):
        codecs.register_error(name, lambda exc, c=char: (c, exc.end))  # type: ignore[misc]


_register()
_HANDLERS = {REPLACEMENT: "defnews-fffd", "\U0010fffd": "defnews-mark"}
MARK = "\U0010fffd"  # (plane 16 private use: no legacy code page decodes to it)


@dataclass
class Decoded:
    text: str
    encoding: str  # the Python codec that read the bytes ("utf-8", "cp932", "euc_jp"...)
    source: str  # what named it: "BOM", "HTTP header", "meta", "XML declaration", "UTF-8", "detector", "default"
    declared: tuple[tuple[str, str], ...] = ()  # (where, codec) of every declaration, in order
    invalid: int = 0  # byte sequences that no candidate read, replaced
    tried: tuple[str, ...] = field(default=(), repr=False)  # the candidates, in order

    @functools.cached_property
    def mojibake(self) -> int:
        """Mojibake markers in the text (UTF-8 read as a Western code page)."""
        return mojibake_markers(self.text)

    @property
    def clean(self) -> bool:
        return self.invalid == 0

    @property
    def first_declared(self) -> str | None:
        """The codec a browser would use: the header's, else the document's."""
        return self.declared[0][1] if self.declared else None

    @property
    def overridden(self) -> bool:
        """Something was declared and the bytes were read with another encoding."""
        first = self.first_declared
        return first is not None and self.encoding not in family(first)

    def describe(self) -> str:
        said = ", ".join(f"{codec} ({where})" for where, codec in self.declared) or "nothing"
        left = f"; {self.invalid} invalid byte sequence(s) left" if self.invalid else ""
        return f"declared {said}, read as {self.encoding} ({self.source}){left}"


def mojibake_markers(text: str) -> int:
    """How many character sequences of ``text`` are UTF-8 bytes read as cp1252 or latin-1
    (``Ã©`` for é, ``â€™`` for ’, ``ã\\x81\\x82`` or ``ã‚¢`` for kana, ``æ—¥`` for 日)."""
    return len(_marker_spans(text))


def looks_like_mojibake(text: str) -> bool:
    """Whether ``text`` is UTF-8 read as a Western code page: its markers make up at least
    half of its non-ASCII characters (in real Western text a marker-like pair, if any, is one
    among many accented letters; in mojibake nearly every non-ASCII character is in one)."""
    spans = _marker_spans(text)
    if not spans:
        return False
    covered = sum(len(s) for s in spans)
    return 2 * covered >= sum(1 for ch in text if ord(ch) > 0x7F)


def _marker_spans(text: str) -> list[str]:
    if not text or _LATIN_LEADS.search(text) is None:
        return []
    return [m.group() for m in _MOJIBAKE.finditer(text) if _is_utf8(m.group())]


def _is_utf8(chars: str) -> bool:
    data = bytearray()
    for ch in chars:
        code = ord(ch)
        if code < 0x100:
            data.append(code)
        else:
            try:
                data += ch.encode("cp1252")
            except UnicodeEncodeError:
                return False
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def resolve(label: str | None) -> str | None:
    """A charset label as the codec browsers read it with (w3lib: ``latin1`` is cp1252,
    ``Shift_JIS`` cp932); None for a label nobody knows (or UTF-7, never honoured)."""
    if not label:
        return None
    return _w3lib_resolve(label.strip().strip("\"'"))


@functools.lru_cache(maxsize=256)
def family(codec: str) -> tuple[str, ...]:
    """The codecs ``codec`` is read with, its usual superset first."""
    name = codecs.lookup(codec).name.replace("-", "_")
    return _FAMILIES.get(name, (codec,))


@functools.lru_cache(maxsize=256)
def single_byte(codec: str) -> bool:
    """Whether ``codec`` is a one-byte-per-character code page (it decodes nearly anything)."""
    name = codecs.lookup(codec).name
    if name in ("latin-1", "iso8859-1", "ascii"):
        return True
    try:
        module = importlib.import_module("encodings." + name.replace("-", "_"))
    except ImportError:
        return False
    return hasattr(module, "decoding_table")


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _replacing(body: bytes, codec: str, replacement: str) -> tuple[str, int] | None:
    try:
        text = body.decode(codec, errors=_HANDLERS[replacement])
        return text, len(text) - len(body.decode(codec, errors="ignore"))
    except LookupError:
        return None


def wide_pattern(body: bytes) -> str | None:
    """UTF-16/32 without a BOM, from how ``<`` starts the document (XML 1.0 Appendix F)."""
    head = body[:4]
    if head == b"<\x00\x00\x00":
        return "utf-32-le"
    if head == b"\x00\x00\x00<":
        return "utf-32-be"
    if head[:2] == b"<\x00":
        return "utf-16-le"
    if head[:2] == b"\x00<":
        return "utf-16-be"
    return None


def declarations(body: bytes, content_type: str | None, kind: str = "html") -> list[tuple[str, str]]:
    """(where, codec) of each charset the response declares: the header's, then the
    document's (``kind`` "html": ``<meta>``; "xml": the XML declaration; "json": none)."""
    out: list[tuple[str, str]] = []
    header = http_content_type_encoding(content_type) if content_type else None
    if header:
        out.append((HEADER, header))
    if kind == "html":
        meta = html_body_declared_encoding(body)
        if meta:
            out.append((META, meta))
    elif kind == "xml":
        match = _XML_ENCODING.match(body[:512])
        codec = resolve(match.group(1).decode("ascii")) if match else None
        if codec:
            out.append((XML_DECLARATION, codec))
    return out


def _detector(body: bytes) -> str | None:
    """charset-normalizer's guess, or None. A Western single-byte guess is cp1252 (the
    Western web's code page) whenever cp1252 reads the bytes to the same text, or within a
    little of the guess's chaos: for French or German text the detector's pick among the
    code pages that read it is close to a coin toss (cp1257, cp1250 for "été")."""
    from charset_normalizer import from_bytes

    results = from_bytes(body)
    best = results.best()
    if best is None:
        return None
    guess = str(best.encoding)
    if single_byte(guess) and guess != "cp1252":
        western = _strict(body, "cp1252")
        near = any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.05 for m in results)
        if western is not None and (near or western == str(best)):
            return "cp1252"
    return guess


def decode(
    body: bytes, content_type: str | None = None, *, kind: str = "html",
    replacement: str = REPLACEMENT,
) -> Decoded:
    """The text of ``body`` (see the module docstring); ``kind`` is "html", "xml" or "json"
    (where the document declares its charset). ``replacement`` stands for each invalid byte
    sequence when no candidate reads them all (U+FFFD, or :data:`MARK` to find them again)."""
    bom, mark = read_bom(body)
    declared = tuple(declarations(body, content_type, kind))
    if bom is not None and mark is not None:
        codec = "utf-8" if bom == "utf-8" else bom
        text, invalid = _replacing(body[len(mark):], codec, replacement) or ("", 0)
        return Decoded(text, codec, "BOM", declared, invalid, (codec,))
    wide = wide_pattern(body) if kind != "json" else None
    if wide is not None:
        text, invalid = _replacing(body, wide, replacement) or ("", 0)
        return Decoded(text, wide, "byte pattern", declared, invalid, (wide,))
    candidates: list[tuple[str, str]] = []
    for where, codec in declared:
        if codec in _WIDE:
            continue  # UTF-16/32 named in ASCII-compatible bytes: a lie (browsers read UTF-8)
        candidates += [(c, where) for c in family(codec)]
    ascii_only = body.isascii()
    utf8 = None if ascii_only else _strict(body, "utf-8")
    if utf8 is not None:
        # Valid UTF-8 with non-ASCII bytes in it: UTF-8, whatever the labels say.
        where = next((w for w, c in declared if c == "utf-8"), "UTF-8")
        return Decoded(utf8, "utf-8", where, declared, 0, tuple(c for c, _ in candidates))
    multibyte: tuple[str, str, str] | None = None
    single: tuple[str, str, str] | None = None
    for codec, where in candidates:
        strict = _strict(body, codec)
        if strict is None:
            continue
        if not single_byte(codec):
            multibyte = multibyte or (codec, where, strict)
        elif single is None and not looks_like_mojibake(strict):
            single = (codec, where, strict)
    tried = tuple(c for c, _ in candidates)
    chosen = multibyte or single
    if chosen is not None:
        return Decoded(chosen[2], chosen[0], chosen[1], declared, 0, tried)
    if ascii_only:  # (ASCII is UTF-8)
        return Decoded(body.decode("ascii"), "utf-8", "default", declared, 0, tried)
    guess = _detector(body)
    read_by_guess: tuple[str, str] | None = None
    for codec in family(guess) if guess is not None else ():
        strict = _strict(body, codec)
        if strict is not None and (not single_byte(codec) or not looks_like_mojibake(strict)):
            read_by_guess = (codec, strict)
            break
    # (XML and JSON undeclared are UTF-8 by their specifications: declared all the same.)
    if read_by_guess is not None and (
            not single_byte(read_by_guess[0]) or (not declared and kind == "html")):
        return Decoded(read_by_guess[1], read_by_guess[0], "detector", declared, 0,
                       (*tried, read_by_guess[0]))
    # Nothing declared reads every byte: the declaration (else UTF-8) that leaves the fewest
    # invalid sequences, and only those replaced; a catch-all code page only when nothing else
    # is declared, and never one that makes mojibake of UTF-8. The legacy Japanese encodings,
    # undeclared, only for text with some non-ASCII in it, and only when they read all but a
    # stray byte in a thousand (Western text read as cp932 leaves far more: an accented
    # letter before a space is no cp932 pair). The detector's single-byte guess only when
    # the declaration leaves more than a stray byte invalid and a tenth of the non-ASCII bytes
    # or more (Western text labelled UTF-8: every accented letter): a lie, not a slip.
    fallback = [c for c, _ in candidates if not single_byte(c)] + ["utf-8"]
    fallback += [c for c, _ in candidates if single_byte(c)]
    non_ascii = len(body) - len(body.decode("ascii", errors="ignore"))
    # (Japanese text: some ten characters at least, not a stray byte in ASCII.)
    undeclared = [c for c in _LIKELY if c not in fallback] if non_ascii >= 20 else []
    stray = max(1, non_ascii // 1000)
    best: tuple[int, str, str] | None = None
    for codec in [*dict.fromkeys(fallback), *undeclared]:
        read = _replacing(body, codec, replacement)
        if read is None:
            continue
        text, invalid = read
        if single_byte(codec) and looks_like_mojibake(text):
            continue
        if codec in undeclared and invalid > stray:
            continue
        if best is None or invalid < best[0]:
            best = (invalid, codec, text)
    assert best is not None  # (utf-8 always reads)
    invalid, codec, text = best
    tried = (*tried, *fallback, *undeclared)
    if read_by_guess is not None and invalid > stray and invalid * 10 >= non_ascii:
        return Decoded(read_by_guess[1], read_by_guess[0], "detector", declared, 0, tried)
    where = next((w for c, w in candidates if c == codec),
                 "UTF-8" if codec == "utf-8" else "fewest invalid bytes")
    return Decoded(text, codec, where, declared, invalid, tried)
