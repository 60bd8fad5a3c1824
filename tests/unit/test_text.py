"""Text PostgreSQL can hold: the pure cleaning functions and the codec that uses them."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from eventsourcing.utils import get_topic

from domain.codec import MsgspecTranscoder, decode_stored, state_decoder
from domain.session import UserMessageSent, UserMessageSentV1
from domain.text import NUL_MARKER, REPLACEMENT, clean_json, clean_text, clean_value


def test_clean_text_marks_nul_and_replaces_lone_surrogates_only():
    assert clean_text("a\x00b\x00") == f"a{NUL_MARKER}b{NUL_MARKER}"
    assert clean_text("high \ud800, low \udfff") == f"high {REPLACEMENT}, low {REPLACEMENT}"
    assert clean_text("a pair \ud83d\ude00") == "a pair \U0001f600"  # a character, kept
    clean = "plain ✓ text \\u0000"
    assert clean_text(clean) is clean


def test_clean_value_cleans_every_string_keys_included():
    value = {"k\x00": ["\x00", 1, None, {"n": "\ud800"}], "t": (True, 2.5)}
    assert clean_value(value) == {
        f"k{NUL_MARKER}": [NUL_MARKER, 1, None, {"n": REPLACEMENT}],
        "t": [True, 2.5],
    }


@pytest.mark.parametrize(
    ("stored", "cleaned"),
    [
        (rb'"a\u0000b"', '"a␀b"'.encode()),
        (rb'"\\u0000 is text"', rb'"\\u0000 is text"'),  # an escaped backslash, then u0000
        (rb'"\\\u0000"', '"\\\\␀"'.encode()),  # an escaped backslash, then a NUL
        (rb'"\u0000\u0000"', '"␀␀"'.encode()),
        (rb'"\ud800 \uDC00"', '"\ufffd \ufffd"'.encode()),
        (rb'"\ud83d\ude00 \u0041 \n"', rb'"\ud83d\ude00 \u0041 \n"'),  # valid escapes stay
    ],
)
def test_clean_json_tells_real_escapes_from_escaped_backslashes(stored, cleaned):
    assert clean_json(stored) == cleaned
    msgspec.json.decode(cleaned)  # still JSON


def state(text: str) -> dict[str, object]:
    return {"timestamp": datetime(2026, 1, 2, tzinfo=UTC), "payload": UserMessageSentV1(text=text)}


def test_the_transcoder_writes_clean_state_as_msgspec_does_and_cleans_the_rest():
    transcoder = MsgspecTranscoder()
    clean = state("hello ✓ \\u0000")
    assert transcoder.encode(clean) == msgspec.json.encode(clean)
    nul = transcoder.encode(state("a\x00b"))
    assert b"\\u0000" not in nul and msgspec.json.decode(nul)["payload"]["text"] == "a␀b"
    lone = transcoder.encode(state("a\ud800b"))  # msgspec alone raises UnicodeEncodeError
    assert msgspec.json.decode(lone)["payload"] == {"v": 1, "text": f"a{REPLACEMENT}b"}


def test_stored_nul_and_surrogate_escapes_are_read_cleaned_and_the_rest_refused():
    decode = msgspec.json.Decoder(dict[str, str]).decode
    assert decode_stored(decode, rb'{"t": "old \u0000"}') == {"t": f"old {NUL_MARKER}"}
    assert decode_stored(decode, rb'{"t": "\ud800"}') == {"t": REPLACEMENT}
    for unreadable in (b'{"t": "\xff"}', b'{"t": 1}', b'{"t": "'):
        with pytest.raises(msgspec.DecodeError):
            decode_stored(decode, unreadable)
    old = rb'{"timestamp":"2026-01-02T00:00:00Z","payload":{"v":1,"text":"a\u0000"}}'
    assert state_decoder(get_topic(UserMessageSent)).decode(old).payload == UserMessageSentV1(
        text=f"a{NUL_MARKER}"
    )
