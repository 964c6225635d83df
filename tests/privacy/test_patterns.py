"""The anchored email and phone patterns find exactly what the plain ones find, in Python and in Spark;
the `@` guard of the no-PII rule and of redaction changes no result."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lakehouse.privacy import EMAIL_PATTERN, PHONE_PATTERN, contains_pii, redact_free_text
from lakehouse.privacy.patterns import redact_text
from pyspark.sql import functions as F

UNANCHORED = EMAIL_PATTERN.removeprefix("(?<![^@ <>(),;:])")
PHONE_UNANCHORED = PHONE_PATTERN.removeprefix("(?=[+(0-9])")
ALPHABET = st.sampled_from(list("ab1.-_+@ <>(),;:\"'{}/=?x9"))
PHONE_ALPHABET = st.sampled_from(list("0123456789 .-+()ax_/"))


def test_the_anchor_is_the_only_difference():
    assert UNANCHORED != EMAIL_PATTERN and UNANCHORED.startswith("[^@ <>(),;:]+@")
    assert PHONE_UNANCHORED != PHONE_PATTERN and PHONE_UNANCHORED.startswith("(?<![0-9A-Za-z_+-])")


@settings(max_examples=400)
@given(
    text=st.one_of(
        st.text(PHONE_ALPHABET, max_size=40),
        st.builds(
            "{}{}{}".format,
            st.text(PHONE_ALPHABET, max_size=8),
            st.sampled_from(["+15551234567", "+1 (555) 123-4567", "07700 900123", "555.123.4567"]),
            st.text(PHONE_ALPHABET, max_size=8),
        ),
    )
)
def test_phone_lookahead_changes_no_match(text):
    assert [m.span() for m in re.finditer(PHONE_PATTERN, text)] == [
        m.span() for m in re.finditer(PHONE_UNANCHORED, text)
    ]


@settings(max_examples=400)
@given(
    text=st.one_of(
        st.text(ALPHABET, max_size=60),
        st.builds("{} {} {}".format, st.text(ALPHABET), st.emails(), st.text(ALPHABET)),
    )
)
def test_anchored_pattern_matches_and_redacts_like_the_unanchored_one(text):
    assert [m.span() for m in re.finditer(EMAIL_PATTERN, text)] == [
        m.span() for m in re.finditer(UNANCHORED, text)
    ]
    assert re.sub(EMAIL_PATTERN, "[email]", text) == re.sub(UNANCHORED, "[email]", text)


def test_spark_agrees_with_python(spark):
    texts = [
        "mail john.doe@x.com now",
        "a,b@c.de",
        "(x@y.org)",
        "@@a@b.cc",
        "no email here",
        '{"k":"v@w.io"}',
    ]
    df = spark.createDataFrame([(t,) for t in texts], "t STRING")
    got = df.select(F.regexp_replace("t", EMAIL_PATTERN, "[email]").alias("r")).collect()
    assert [r.r for r in got] == [re.sub(UNANCHORED, "[email]", t) for t in texts]


def test_spark_redaction_and_detection_agree_with_python(spark):
    texts = [
        "mail john.doe@x.com or +1 (555) 123-4567",
        "call 07700 900123",
        "no pii, id 20261128, 10.5, 2026-11-28",
        "x@y.org",
        None,
    ]
    df = spark.createDataFrame([(t,) for t in texts], "t STRING")
    got = df.select(redact_free_text(F.col("t")).alias("r"), contains_pii(F.col("t")).alias("p")).collect()
    assert [r.r for r in got] == [None if t is None else redact_text(t) for t in texts]
    assert [r.p for r in got] == [True, True, False, True, None]
