"""Tests for credentials.status: W3C Bitstring Status List v1.0."""

from __future__ import annotations

import base64
import gzip
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import MalformedInputError, StatusListError
from credentials.status import (
    MIN_SIZE,
    StatusEntry,
    StatusList,
    build_status_list_credential,
    parse_status_entry,
    read_status,
    status_entry,
)
from tests.conftest import load_json

LIST_URL = "https://example.edu/status/1"
# The encodedList of the BitstringStatusListCredential example in the spec (§2.2): 131,072
# entries, none set.
SPEC_EXAMPLE_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
# Revoked indexes in tests/assets/status/peer-status-list.json (see its README).
PEER_REVOKED = {0, 7, 8, 42, 1000, 65535, 131071}


def encode_raw(raw: bytes) -> str:
    """Encode a bitstring by hand, independently of StatusList.encode()."""
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw)).decode("ascii").rstrip("=")


def list_credential(status_list: StatusList, purpose: str = "revocation") -> dict[str, Any]:
    return build_status_list_credential(
        list_id=LIST_URL,
        issuer="did:web:example.edu",
        purpose=purpose,
        status_list=status_list,
        valid_from="2024-01-01T00:00:00Z",
    )


# --- the bitstring ----------------------------------------------------------------------------


def test_new_list_is_the_minimum_size_and_all_clear() -> None:
    status_list = StatusList.new()
    assert len(status_list) == MIN_SIZE == 131_072
    assert status_list.to_bytes() == bytes(16 * 1024)
    assert not any(status_list.get(i) for i in (0, 1, 65_536, MIN_SIZE - 1))


def test_larger_lists_are_allowed() -> None:
    assert len(StatusList.new(MIN_SIZE * 2)) == 262_144


def test_a_list_below_the_minimum_is_refused() -> None:
    with pytest.raises(StatusListError, match="below the minimum of 131072") as info:
        StatusList.new(MIN_SIZE - 8)
    assert info.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_a_size_that_is_not_whole_bytes_is_refused() -> None:
    with pytest.raises(StatusListError, match="not a multiple of 8"):
        StatusList.new(MIN_SIZE + 1)


def test_status_sizes_other_than_one_are_refused() -> None:
    with pytest.raises(StatusListError, match="statusSize 2 is not supported"):
        StatusList.new(status_size=2)


def test_set_and_clear() -> None:
    status_list = StatusList.new()
    status_list.set(5, True)
    assert status_list.get(5)
    assert not status_list.get(4)
    assert not status_list.get(6)
    status_list.set(5, False)
    assert not status_list.get(5)
    assert status_list == StatusList.new()


def test_bit_order_index_zero_is_the_most_significant_bit_of_byte_zero() -> None:
    # §3.1: position 0 is the left-most bit.  Indexes 0 and 9 set -> bytes 0b1000_0000,
    # 0b0100_0000; index 23 -> last bit of byte 2.
    status_list = StatusList.new()
    for index in (0, 9, 23):
        status_list.set(index, True)
    assert status_list.to_bytes()[:4] == bytes([0x80, 0x40, 0x01, 0x00])
    expanded = zlib.decompress(
        base64.urlsafe_b64decode(status_list.encode()[1:] + "=="), 16 + zlib.MAX_WBITS
    )
    assert expanded[:4] == bytes([0x80, 0x40, 0x01, 0x00])


def test_decoding_a_hand_made_encoding() -> None:
    raw = bytearray(16 * 1024)
    raw[0] = 0b1000_0001  # indexes 0 and 7
    raw[-1] = 0b0000_0001  # index 131071
    decoded = StatusList.decode(encode_raw(bytes(raw)))
    assert [i for i in range(len(decoded)) if decoded.get(i)] == [0, 7, MIN_SIZE - 1]


def test_decoding_the_spec_example() -> None:
    decoded = StatusList.decode(SPEC_EXAMPLE_LIST)
    assert len(decoded) == MIN_SIZE
    assert decoded == StatusList.new()


def test_encoding_is_multibase_base64url_without_padding() -> None:
    encoded = StatusList.new().encode()
    assert encoded.startswith("u")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    # GZIP magic number after the multibase prefix.
    assert base64.urlsafe_b64decode(encoded[1:] + "==")[:2] == b"\x1f\x8b"


def test_encoding_is_deterministic() -> None:
    status_list = StatusList.new()
    status_list.set(3, True)
    assert status_list.encode() == status_list.encode()


@pytest.mark.parametrize("index", [-1, MIN_SIZE, MIN_SIZE + 100])
def test_get_and_set_outside_the_list_are_range_errors(index: int) -> None:
    status_list = StatusList.new()
    with pytest.raises(StatusListError, match="outside the list of 131072") as info:
        status_list.get(index)
    assert info.value.code == "RANGE_ERROR"
    with pytest.raises(StatusListError, match="outside the list"):
        status_list.set(index, True)


@pytest.mark.parametrize("index", [True, 1.0, "1"])
def test_indexes_must_be_integers(index: object) -> None:
    with pytest.raises(StatusListError, match="must be an integer"):
        StatusList.new().get(index)  # type: ignore[arg-type]


def test_set_needs_a_bool() -> None:
    with pytest.raises(StatusListError, match="must be a bool"):
        StatusList.new().set(1, 1)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_SIZE - 1), max_size=200))
def test_any_set_of_indexes_round_trips(indexes: set[int]) -> None:
    status_list = StatusList.new()
    for index in indexes:
        status_list.set(index, True)
    decoded = StatusList.decode(status_list.encode())
    assert decoded == status_list
    assert {i for i in range(len(decoded)) if decoded.get(i)} == indexes


# --- refusing bad encodings (§3.2) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("", r"\(prefix 'u'\), not prefix '\(empty\)'"),
        ("z" + SPEC_EXAMPLE_LIST[1:], r"\(prefix 'u'\), not prefix 'z'"),
        ("m" + SPEC_EXAMPLE_LIST[1:], r"\(prefix 'u'\), not prefix 'm'"),
        (SPEC_EXAMPLE_LIST[1:], r"\(prefix 'u'\), not prefix 'H'"),
    ],
)
def test_other_multibase_prefixes_are_refused(encoded: str, message: str) -> None:
    with pytest.raises(StatusListError, match=message) as info:
        StatusList.decode(encoded)
    assert info.value.code == "MALFORMED_VALUE_ERROR"


@pytest.mark.parametrize(
    "encoded",
    [
        SPEC_EXAMPLE_LIST + "=",  # padding
        SPEC_EXAMPLE_LIST.replace("-", "+"),  # standard, not URL-safe, alphabet
        SPEC_EXAMPLE_LIST[:20] + "/" + SPEC_EXAMPLE_LIST[21:],
        SPEC_EXAMPLE_LIST[:20] + " " + SPEC_EXAMPLE_LIST[20:],
        "uA",  # a single leftover base64 character cannot encode a byte
    ],
)
def test_bad_base64url_is_refused(encoded: str) -> None:
    with pytest.raises(StatusListError, match="not valid base64url without padding"):
        StatusList.decode(encoded)


def test_non_string_is_refused() -> None:
    with pytest.raises(StatusListError, match="encodedList must be a string"):
        StatusList.decode(None)  # type: ignore[arg-type]


def test_data_that_is_not_gzip_is_refused() -> None:
    not_gzip = "u" + base64.urlsafe_b64encode(bytes(16 * 1024)).decode().rstrip("=")
    with pytest.raises(StatusListError, match="not valid GZIP data"):
        StatusList.decode(not_gzip)


def test_raw_zlib_instead_of_gzip_is_refused() -> None:
    raw_zlib = "u" + base64.urlsafe_b64encode(zlib.compress(bytes(16 * 1024))).decode()
    with pytest.raises(StatusListError, match="not valid GZIP data"):
        StatusList.decode(raw_zlib.rstrip("="))


def test_truncated_gzip_is_refused() -> None:
    compressed = gzip.compress(bytes(16 * 1024))[:-6]
    encoded = "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")
    with pytest.raises(StatusListError, match="truncated GZIP"):
        StatusList.decode(encoded)


def test_data_after_the_gzip_stream_is_refused() -> None:
    compressed = gzip.compress(bytes(16 * 1024)) + b"junk"
    encoded = "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")
    with pytest.raises(StatusListError, match="data after the GZIP stream"):
        StatusList.decode(encoded)


def test_a_list_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(StatusListError, match="has 131064 entries; the minimum is 131072") as info:
        StatusList.decode(encode_raw(bytes(16 * 1024 - 1)))
    assert info.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_a_decompression_bomb_is_refused(assets: Path) -> None:
    bomb = (assets / "hostile" / "status-gzip-bomb.txt").read_text().strip()
    assert len(bomb) < 32 * 1024  # small on the wire, 17 MiB when inflated
    with pytest.raises(StatusListError, match="decompresses to more than 16777216 bytes"):
        StatusList.decode(bomb)


def test_an_absurdly_long_encoding_is_refused_before_decoding() -> None:
    with pytest.raises(StatusListError, match="encodedList is too long"):
        StatusList.decode("u" + "A" * (23 * 1024 * 1024))


def test_errors_are_malformed_input() -> None:
    assert issubclass(StatusListError, MalformedInputError)


# --- the peer implementation ---------------------------------------------------------------------


def test_reads_exactly_the_bits_the_peer_implementation_set() -> None:
    credential = load_json("status/peer-status-list.json")
    decoded = StatusList.decode(credential["credentialSubject"]["encodedList"])
    assert len(decoded) == MIN_SIZE
    assert {i for i in range(len(decoded)) if decoded.get(i)} == PEER_REVOKED


@pytest.mark.parametrize("index", sorted(PEER_REVOKED | {1, 6, 9, 41, 43, 65534, 131070}))
def test_read_status_on_the_peer_list(index: int) -> None:
    credential = load_json("status/peer-status-list.json")
    entry = parse_status_entry(status_entry(credential["id"], index, "revocation"))
    assert read_status(entry, credential) is (index in PEER_REVOKED)


# --- entries (§2.1) -----------------------------------------------------------------------------


def test_status_entry() -> None:
    assert status_entry(LIST_URL, 94567, "revocation") == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("/status/1", 1, "revocation"), "is not an absolute URL"),
        ((LIST_URL, -1, "revocation"), "non-negative integer"),
        ((LIST_URL, "1", "revocation"), "non-negative integer"),
        ((LIST_URL, 1, "refresh"), "statusPurpose 'refresh' is not one of"),
        ((LIST_URL, 1, "Revocation"), "statusPurpose 'Revocation' is not one of"),
    ],
)
def test_status_entry_refuses_bad_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(StatusListError, match=message):
        status_entry(*args)


@pytest.mark.parametrize("purpose", ["revocation", "suspension", "refresh", "message"])
def test_parse_status_entry(purpose: str) -> None:
    entry = {
        "id": f"{LIST_URL}#12",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": "12",
        "statusListCredential": LIST_URL,
    }
    assert parse_status_entry(entry) == StatusEntry(url=LIST_URL, index=12, purpose=purpose)


def test_parse_status_entry_round_trips_the_builder() -> None:
    built = status_entry(LIST_URL, 7, "suspension")
    assert parse_status_entry(built) == StatusEntry(LIST_URL, 7, "suspension")


def test_parse_status_entry_accepts_an_integer_index_and_a_type_list() -> None:
    entry = {
        "type": ["BitstringStatusListEntry"],
        "statusPurpose": "revocation",
        "statusListIndex": 3,
        "statusListCredential": LIST_URL,
        "statusSize": 1,
    }
    assert parse_status_entry(entry).index == 3


def good_entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "12",
        "statusListCredential": LIST_URL,
    }
    for key, value in changes.items():
        if value is None:
            del entry[key]
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "StatusList2021Entry"}, "does not include BitstringStatusListEntry"),
        ({"type": None}, "does not include BitstringStatusListEntry"),
        ({"statusListIndex": "-1"}, "not a non-negative base-10 integer"),
        ({"statusListIndex": "0x10"}, "not a non-negative base-10 integer"),
        ({"statusListIndex": "1.5"}, "not a non-negative base-10 integer"),
        ({"statusListIndex": " 1"}, "not a non-negative base-10 integer"),
        ({"statusListIndex": "01"}, "not a non-negative base-10 integer"),
        ({"statusListIndex": ""}, "not a non-negative base-10 integer"),
        ({"statusListIndex": "9" * 400}, "not a non-negative base-10 integer"),
        ({"statusListIndex": -1}, "not a non-negative base-10 integer"),
        ({"statusListIndex": True}, "not a non-negative base-10 integer"),
        ({"statusListIndex": None}, "not a non-negative base-10 integer"),
        ({"statusListCredential": "status/1"}, "is not an absolute URL"),
        ({"statusListCredential": "https://"}, "is not an absolute URL"),
        ({"statusListCredential": 5}, "must be a URL string"),
        ({"statusListCredential": None}, "must be a URL string"),
        ({"statusPurpose": "expiry"}, "statusPurpose 'expiry' is not one of"),
        ({"statusPurpose": None}, "statusPurpose None is not one of"),
        ({"statusSize": 2}, "statusSize 2 is not supported"),
    ],
)
def test_parse_status_entry_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(StatusListError, match=message):
        parse_status_entry(good_entry(**changes))


def test_parse_status_entry_refuses_a_non_object() -> None:
    with pytest.raises(StatusListError, match="must be an object"):
        parse_status_entry(["BitstringStatusListEntry"])  # type: ignore[arg-type]


# --- list credentials (§2.2) and reading a status (§3.3) ----------------------------------------


def test_build_status_list_credential() -> None:
    status_list = StatusList.new()
    status_list.set(1, True)
    credential = build_status_list_credential(
        list_id=LIST_URL,
        issuer="did:web:example.edu",
        purpose="suspension",
        status_list=status_list,
        valid_from="2024-01-01T00:00:00Z",
        valid_until="2025-01-01T00:00:00Z",
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:web:example.edu",
        "validFrom": "2024-01-01T00:00:00Z",
        "validUntil": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "suspension",
            "encodedList": status_list.encode(),
        },
    }
    assert "validUntil" not in list_credential(status_list)


def test_build_status_list_credential_refuses_an_unknown_purpose() -> None:
    with pytest.raises(StatusListError, match="statusPurpose 'message' is not one of"):
        list_credential(StatusList.new(), purpose="message")


def test_read_status() -> None:
    status_list = StatusList.new()
    status_list.set(42, True)
    credential = list_credential(status_list)
    assert read_status(StatusEntry(LIST_URL, 42, "revocation"), credential) is True
    assert read_status(StatusEntry(LIST_URL, 43, "revocation"), credential) is False


def test_read_status_accepts_a_list_of_purposes() -> None:
    credential = list_credential(StatusList.new())
    credential["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
    assert read_status(StatusEntry(LIST_URL, 1, "suspension"), credential) is False


def test_read_status_purpose_mismatch() -> None:
    credential = list_credential(StatusList.new(), purpose="revocation")
    with pytest.raises(
        StatusListError, match="purpose 'suspension' does not match the list's statusPurpose"
    ) as info:
        read_status(StatusEntry(LIST_URL, 1, "suspension"), credential)
    assert info.value.code == "STATUS_VERIFICATION_ERROR"


def test_read_status_index_out_of_range() -> None:
    credential = list_credential(StatusList.new())
    with pytest.raises(StatusListError, match="statusListIndex 131072 is outside the list") as info:
        read_status(StatusEntry(LIST_URL, MIN_SIZE, "revocation"), credential)
    assert info.value.code == "RANGE_ERROR"


def test_read_status_needs_a_status_list_credential() -> None:
    credential = list_credential(StatusList.new())
    credential["type"] = ["VerifiableCredential", "OpenBadgeCredential"]
    with pytest.raises(StatusListError, match="does not include BitstringStatusListCredential"):
        read_status(StatusEntry(LIST_URL, 1, "revocation"), credential)


def test_read_status_does_not_ask_the_list_id_to_be_the_entry_url() -> None:
    # Bitstring Status List §3.2 reads what was dereferenced at (or given for) the entry's URL;
    # it never compares the list's optional `id` with it (issue 14 §7).
    status_list = StatusList.new()
    status_list.set(1, True)
    credential = list_credential(status_list)
    assert read_status(StatusEntry("https://example.edu/status/2", 1, "revocation"), credential)


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        (None, "must have one credentialSubject object"),
        ([{"type": "BitstringStatusList"}], "must have one credentialSubject object"),
        ({"type": "StatusList2021", "statusPurpose": "revocation"}, "BitstringStatusList"),
        (
            {"type": "BitstringStatusList", "statusPurpose": "revocation"},
            "encodedList must be a string",
        ),
        (
            {"type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": "zx"},
            "prefix 'u'",
        ),
    ],
)
def test_read_status_refuses_a_bad_subject(subject: Any, message: str) -> None:
    credential = list_credential(StatusList.new())
    credential["credentialSubject"] = subject
    with pytest.raises(StatusListError, match=message):
        read_status(StatusEntry(LIST_URL, 1, "revocation"), credential)
