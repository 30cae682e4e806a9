"""Shared hypothesis strategies."""

import base64
import json
import string
import urllib.parse

from hypothesis import strategies as st

# Names as clients really send them: any Unicode, with path tricks mixed in.
file_names = st.one_of(
    st.text(min_size=1, max_size=300),
    st.lists(
        st.sampled_from(
            ["..", ".", "/", "\\", "a", "é", "名", " ", "\x00", "\u202e", ".bashrc", "~"]
        ),
        min_size=1,
        max_size=20,
    ).map("".join),
)

file_bytes = st.binary(min_size=1, max_size=4096)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)

header_values = st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=200)

# --- Query and path parameters of the upload API, as a hostile client sends them ---

# Any text for a query value: httpx percent-encodes it, so the route sees it as is.
query_texts = st.one_of(st.text(max_size=64), st.text(max_size=2100))

# `limit` as numbers people type and as anything else.
limits = st.one_of(
    query_texts,
    st.integers().map(str),
    st.integers(min_value=-5, max_value=105).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["", " 5", "5 ", "0x10", "1e2", "1_0", "\u0663", "\uff11", "+7", "-0", "true", "null"]
    ),
)

_TIMESTAMP_TEXTS = st.one_of(
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    st.text(max_size=30),
)


def _urlsafe_b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def cursors(owner: str) -> st.SearchStrategy[str]:
    """Opaque cursors: junk text, Base64 of any JSON (deeply nested too), near-valid start keys."""
    near_valid = st.fixed_dictionaries(
        {
            "file_id": st.one_of(st.uuids().map(str), st.text(max_size=40)),
            "owner": st.one_of(st.just(owner), st.text(max_size=40)),
            "created_at": _TIMESTAMP_TEXTS,
        },
        optional={"extra": json_values},
    )
    nested = st.tuples(
        st.sampled_from(["[", '{"a":', "[{}", '{"owner":[']), st.integers(1, 1600)
    ).map(lambda opener_depth: opener_depth[0] * opener_depth[1])
    return st.one_of(
        query_texts,
        st.binary(max_size=1500).map(_urlsafe_b64),
        json_values.map(lambda value: _urlsafe_b64(json.dumps(value).encode())),
        near_valid.map(lambda key: _urlsafe_b64(json.dumps(key).encode())),
        nested.map(lambda text: _urlsafe_b64(text.encode())),
        # Longer than any cursor the API mints.
        st.integers(2049, 4000).map(lambda size: "A" * size),
    )


_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_PERCENT_JUNK = st.sampled_from(
    [
        "%", "%%", "%0", "%zz", "%G0", "%00", "%0A", "%0D", "%20", "%7F", "%2F", "%2f", "%5C",
        "%2e%2e", "%2E", "..", ".", "%FF", "%C0%AF", "%E2%82", "%ED%A0%80", "%F4%90%80%80",
        "%EF%BB%BF", "%25", "%3F", "%23", "+", ";", "=", ",", "@", ":", "!", "$", "&", "'", "*",
    ]
)  # fmt: skip

# One path segment: any text percent-encoded, raw percent-encoded junk, or a UUID.
path_segments = st.one_of(
    st.text(max_size=300).map(lambda text: urllib.parse.quote(text, safe="")),
    st.lists(
        st.one_of(
            _PERCENT_JUNK,
            st.text(alphabet=_UNRESERVED, max_size=12),
            st.integers(0, 255).map(lambda byte: f"%{byte:02X}"),
        ),
        max_size=16,
    ).map("".join),
    st.uuids().map(str),
)


def _wrapped_base64(data: bytes, *, width: int, separator: str) -> str:
    encoded = base64.b64encode(data).decode()
    return separator.join(encoded[start : start + width] for start in range(0, len(encoded), width))


# file_data as clients send it: valid Base64 (plain or wrapped), near misses and junk.
file_data_texts = st.one_of(
    file_bytes.map(lambda data: base64.b64encode(data).decode()),
    st.builds(
        _wrapped_base64,
        file_bytes,
        width=st.sampled_from([64, 76]),
        separator=st.sampled_from(["\n", "\r\n"]),
    ),
    st.text(alphabet=string.ascii_letters + string.digits + "+/=-_ \n\r\t", max_size=200),
    st.text(max_size=200),
)

# --- Text as editors save it ------------------------------------------------------------

# Text never holds U+0000: a NUL is what marks bytes as binary.
texts_without_nul = st.text(st.characters(exclude_characters="\x00"), max_size=5_000)


def _printable_in(encoding: str) -> str:
    """Every printable character of a single-byte encoding, with tab, LF, CR and form feed."""
    characters = bytes(range(256)).decode(encoding, errors="ignore")
    return "".join(c for c in characters if c.isprintable() or c in "\t\n\r\f")


LATIN_1_PRINTABLE = _printable_in("latin-1")
WINDOWS_1252_PRINTABLE = _printable_in("cp1252")

# (encoding, bytes): any text in UTF-8 (with or without BOM), UTF-16 (Python's codec
# writes a BOM), and printable text in the single-byte legacy encodings.
encoded_texts = st.one_of(
    st.tuples(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]), texts_without_nul),
    st.tuples(st.just("latin-1"), st.text(alphabet=LATIN_1_PRINTABLE, max_size=5_000)),
    st.tuples(st.just("cp1252"), st.text(alphabet=WINDOWS_1252_PRINTABLE, max_size=5_000)),
).map(lambda sample: (sample[0], sample[1].encode(sample[0])))

# --- Forged locations: what a writer of the files table could put in an item ---------

OWN = "<own-key>"
OWN_PREFIX = "<own-prefix>"
_KEY_TRICKS = st.sampled_from(
    ["", "/", "..", "../", "uploads/", "uploads//", "uploads/../", "%2e%2e/", "\\", "\x00"]
)


def forged_locations(victim_key: str, bucket: str) -> st.SearchStrategy[dict[str, str]]:
    """Item attributes rewritten to point elsewhere: at the victim's key or prefix, at
    path tricks, at another bucket, or a name that is not a sanitised one.

    OWN and OWN_PREFIX stand for the forging user's own derived key and prefix
    (known only once the test has uploaded), so near misses are tried too.
    """
    victim_prefix = victim_key.rsplit("/", 1)[0] + "/"
    victim_user = victim_key.split("/")[1]
    keys = st.one_of(
        st.just(victim_key),
        st.text(max_size=40).map(lambda name: victim_prefix + name),
        st.tuples(_KEY_TRICKS, st.sampled_from([victim_key, victim_prefix, victim_user])).map(
            "".join
        ),
        st.tuples(st.just(OWN_PREFIX), _KEY_TRICKS, st.just(victim_key)).map("".join),
        st.text(min_size=1, max_size=40).map(lambda name: OWN_PREFIX + name),
        st.sampled_from([OWN, OWN + " ", OWN + "/", "/" + OWN]),
        st.text(min_size=1, max_size=80),
    )
    buckets = st.one_of(
        st.just(bucket),
        st.sampled_from([bucket + "-other", bucket.upper(), "", " " + bucket, "victim-bucket"]),
        st.text(min_size=1, max_size=63),
    )
    names = st.one_of(file_names, st.sampled_from(["../secret.txt", ".", "..", "a/b"]))
    return st.fixed_dictionaries(
        {}, optional={"s3_key": keys, "bucket": buckets, "file_name": names}
    ).filter(bool)
