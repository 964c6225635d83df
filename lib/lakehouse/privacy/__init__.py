"""Privacy: keyed hashing of emails and phones, and redaction of free text.

Everything here builds Spark ``Column`` expressions from built-in functions only
(no Python UDFs); the HMAC key material is turned into literal binary columns at
plan time.

Example::

    from lakehouse.privacy import PiiHasher, redact_free_text

    pii = PiiHasher.for_development()
    df.select(pii.hash_email(F.col("email")).alias("email_hash"),
              redact_free_text(F.col("comment")).alias("comment"))
"""

from lakehouse.privacy.hashing import (
    DEV_KEY_VERSION,
    HASH_VALUE_PATTERN,
    PiiHasher,
    PiiKeyError,
    normalize_email,
    normalize_phone,
)
from lakehouse.privacy.patterns import (
    EMAIL_PATTERN,
    EMAIL_TOKEN,
    NO_PII_RULE,
    PHONE_PATTERN,
    PHONE_TOKEN,
    PII_PATTERNS,
    contains_pii,
    redact_free_text,
    redact_free_text_sql,
)

__all__ = [
    "DEV_KEY_VERSION",
    "EMAIL_PATTERN",
    "EMAIL_TOKEN",
    "HASH_VALUE_PATTERN",
    "NO_PII_RULE",
    "PHONE_PATTERN",
    "PHONE_TOKEN",
    "PII_PATTERNS",
    "PiiHasher",
    "PiiKeyError",
    "contains_pii",
    "normalize_email",
    "normalize_phone",
    "redact_free_text",
    "redact_free_text_sql",
]
