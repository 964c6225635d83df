"""PiiHasher: HMAC-SHA256 with Spark built-ins equals Python's hmac; key loading; redaction."""

import base64
import hashlib
import hmac
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lakehouse.privacy import (
    EMAIL_PATTERN,
    HASH_VALUE_PATTERN,
    PHONE_PATTERN,
    PiiHasher,
    PiiKeyError,
    redact_free_text,
)
from lakehouse.privacy.patterns import redact_text
from pyspark.sql import functions as F

KEY = bytes(range(32))
SETTINGS = settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def reference(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def e164(cc: str, rest: str) -> str:
    return "+" + cc + rest


phones = st.builds(
    lambda cc, rest, style: (style(cc, rest), e164(cc, rest)),
    st.from_regex(r"[1-9][0-9]{0,2}", fullmatch=True),
    st.from_regex(r"[0-9]{8,10}", fullmatch=True),
    st.sampled_from(
        [
            lambda cc, r: f"+{cc}{r}",
            lambda cc, r: f"+{cc} {r[:3]} {r[3:6]} {r[6:]}",
            lambda cc, r: f"00{cc} ({r[:3]}) {r[3:6]}-{r[6:]}",
            lambda cc, r: f" +{cc}.{r[:4]}.{r[4:]} ",
        ]
    ),
)


@SETTINGS
@given(emails=st.lists(st.emails(), min_size=1, max_size=40))
def test_hash_email_equals_python_hmac_of_the_normalized_email(spark, emails):
    pii = PiiHasher({"v1": KEY}, "v1")
    padded = [f"  {e.upper()} " if i % 2 else e for i, e in enumerate(emails)]
    df = spark.createDataFrame([(i, e) for i, e in enumerate(padded)], "i int, e string")
    got = {r.i: r.h for r in df.select("i", pii.hash_email(F.col("e")).alias("h")).collect()}
    for i, e in enumerate(padded):
        assert got[i] == "v1:" + reference(KEY, e.strip().lower())
        assert re.fullmatch(HASH_VALUE_PATTERN, got[i])


@SETTINGS
@given(values=st.lists(phones, min_size=1, max_size=40))
def test_hash_phone_equals_python_hmac_of_the_e164_phone(spark, values):
    pii = PiiHasher({"v1": KEY}, "v1")
    df = spark.createDataFrame([(i, raw) for i, (raw, _) in enumerate(values)], "i int, p string")
    got = {
        r.i: (r.n, r.h)
        for r in df.select(
            "i", pii.normalize_phone(F.col("p")).alias("n"), pii.hash_phone(F.col("p")).alias("h")
        ).collect()
    }
    for i, (_, normalized) in enumerate(values):
        assert got[i] == (normalized, "v1:" + reference(KEY, normalized))


@SETTINGS
@given(
    emails=st.lists(st.emails(), min_size=1, max_size=20), values=st.lists(phones, min_size=1, max_size=20)
)
def test_redaction_removes_every_generated_email_and_phone(spark, emails, values):
    texts = [f"contact {e} today" for e in emails] + [f"call {raw.strip()} now." for raw, _ in values]
    df = spark.createDataFrame([(t,) for t in texts], "t string")
    out = [r.r for r in df.select(redact_free_text(F.col("t")).alias("r")).collect()]
    for original, redacted in zip(texts, out, strict=True):
        assert redacted == redact_text(original)  # Spark and Python agree
        assert not re.search(EMAIL_PATTERN, redacted) and not re.search(PHONE_PATTERN, redacted)
    for e, r in zip(emails, out, strict=False):
        assert e not in r


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:00:00.000Z",
        "550e8400-e29b-41d4-a716-446655440000",
        "12345678-1234-1234-1234-123456789012",
        "192.168.100.200",
        "amount 1714557600",
        "Chrome/120.0.6099.109",
        "v1:" + "0" * 64,
        "ch_3MmlLrLkdIwHu7ix0snN0B15",
        "12.345678901234",
    ],
)
def test_patterns_leave_non_pii_alone(text):
    assert redact_text(text) == text


def test_national_numbers_without_default_country_hash_their_digits(spark):
    pii = PiiHasher({"v1": KEY}, "v1")
    uk = PiiHasher({"v1": KEY}, "v1", default_phone_country="44")
    df = spark.createDataFrame([("020 7946 0958",), ("no digits",), (None,)], "p string")
    rows = df.select(
        pii.normalize_phone(F.col("p")).alias("a"), uk.normalize_phone(F.col("p")).alias("b")
    ).collect()
    assert [(r.a, r.b) for r in rows] == [("02079460958", "+442079460958"), (None, None), (None, None)]


def test_key_file_hex_base64_and_rotation(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps({"current": "v2", "keys": {"v1": KEY.hex(), "v2": base64.b64encode(b"k" * 32).decode()}})
    )
    pii = PiiHasher.from_key_file(path)
    assert pii.key_version == "v2" and pii.id_key == "v1" and pii.key_bytes("v2") == b"k" * 32
    assert "k" * 8 not in repr(pii)
    for bad in (
        {"keys": {}},
        {"current": "v9", "keys": {"v1": KEY.hex()}},
        {"current": "v1", "keys": {"v1": "abcd"}},
    ):
        path.write_text(json.dumps(bad))
        with pytest.raises(PiiKeyError):
            PiiHasher.from_key_file(path)


def test_secrets_manager_with_moto():
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(
            Name="lakehouse/pii", SecretString=json.dumps({"current": "v1", "keys": {"v1": KEY.hex()}})
        )
        pii = PiiHasher.from_secrets_manager("lakehouse/pii", client)
    assert pii.key_bytes() == KEY


def test_development_key_is_labelled(spark):
    pii = PiiHasher.for_development()
    value = spark.range(1).select(pii.hash_email(F.lit("a@b.example")).alias("h")).first().h
    assert value.startswith("dev:") and value == "dev:" + reference(pii.key_bytes(), "a@b.example")


def test_sql_form_equals_column_form(spark):
    pii = PiiHasher({"v1": KEY}, "v1")
    df = spark.createDataFrame([(" A@B.example ", "0044 20 7946 0958")], "e string, p string")
    row = df.select(
        pii.hash_email(F.col("e")).alias("a"),
        F.expr(pii.sql("hash_email", "e")).alias("b"),
        pii.hash_phone(F.col("p")).alias("c"),
        F.expr(pii.sql("hash_phone", "p")).alias("d"),
    ).first()
    assert row.a == row.b and row.c == row.d


def test_the_flat_secret_form_generated_by_secrets_manager_is_accepted():
    flat = {"current_version": "v1", "v1": "k" * 64}
    nested = {"current": "v1", "keys": {"v1": "k" * 64}}
    assert PiiHasher.from_config(flat).key_bytes() == PiiHasher.from_config(nested).key_bytes()
    assert PiiHasher.from_config(flat).key_version == "v1"
