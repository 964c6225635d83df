"""The anchored email pattern finds exactly what the plain one finds, in Python and in Spark."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lakehouse.privacy import EMAIL_PATTERN
from pyspark.sql import functions as F

UNANCHORED = EMAIL_PATTERN.removeprefix("(?<![^@ <>(),;:])")
ALPHABET = st.sampled_from(list("ab1.-_+@ <>(),;:\"'{}/=?x9"))


def test_the_anchor_is_the_only_difference():
    assert UNANCHORED != EMAIL_PATTERN and UNANCHORED.startswith("[^@ <>(),;:]+@")


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
