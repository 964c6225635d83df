"""The email and phone patterns shared by free-text redaction and the no-PII data-quality rule.

Both patterns are written **without backslashes and without quote characters**, so
the very same text is a valid regular expression in Python (``re``), in Java (Spark's
``rlike`` / ``regexp_replace``), inside a single-quoted Spark SQL literal and inside a
double-quoted DQDL string. ``jobs/bronze_to_silver/rulesets/*.dqdl`` embed them
verbatim (a test checks that they do).

``EMAIL_PATTERN`` matches ``local@domain.tld``; the local part is any run of characters
other than ``@``, space and the delimiters ``<>(),;:`` (a negated class, so every RFC 5322
local-part character, apostrophe and backtick included, is covered without writing a
quote). It errs towards over-redaction: in ``see:x/y?e=ann@x.io`` everything after the
colon goes.

``PHONE_PATTERN`` matches E.164 numbers (``+`` and 7 to 15 digits) and the usual
grouped forms: ``+1 (555) 123-4567``, ``+44 20 7946 0958``, ``(555) 123-4567``,
``555.123.4567``, ``07700 900123``. Bare digit runs without ``+`` are **not** phones
(amounts, unix timestamps and ids are digit runs), nor are dates, times, IPv4
addresses, decimal numbers or UUID segments: the pattern needs separators between
groups and is fenced by look-arounds on letters, digits, ``_``, ``+`` and ``-``.

Example::

    df.select(redact_free_text(F.col("description")))   # 'mail a@b.co' -> 'mail [email]'
"""

from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

# The look-behind makes a match start where a local part starts (after a separator or at
# the beginning). It changes no match (the leftmost match starts there anyway) but keeps
# the search linear: without it, every position of a long string without ``@`` starts a
# scan to the end of its run of non-separator characters.
EMAIL_PATTERN = "(?<![^@ <>(),;:])[^@ <>(),;:]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z0-9-]{2,}"

# Every phone match starts with ``+``, ``(`` or a digit. Checking that first (one
# character) before the look-behinds changes no match and makes the scan of long text,
# where most positions start with neither, about 40 % faster in Java.
PHONE_PATTERN = (
    "(?=[+(0-9])(?<![0-9A-Za-z_+-])(?<![0-9][.])"
    "([+][0-9]{7,15}"
    "|([+][0-9]{1,3}[ .-]?)?([(][0-9]{2,5}[)][ .-]?|[0-9]{2,5}[ .-])[0-9]{3,4}[ .-]?[0-9]{3,4})"
    "(?![0-9A-Za-z_-]|[.][0-9])"
)

# The blocking no-PII rule of every Silver ruleset, verbatim (a test checks that it is
# there): no row, serialized to JSON, matches either pattern. ``instr`` short-circuits the
# email scan on rows without ``@`` (nearly all, once PII is hashed).
NO_PII_RULE = (
    'CustomSql "select count(*) from (select to_json(struct(*)) as row_json from primary) where '
    f"(instr(row_json, '@') > 0 and row_json rlike '{EMAIL_PATTERN}') "
    f"or row_json rlike '{PHONE_PATTERN}'\" = 0"
)

EMAIL_TOKEN = "[email]"
PHONE_TOKEN = "[phone]"

PII_PATTERNS: dict[str, str] = {"email": EMAIL_PATTERN, "phone": PHONE_PATTERN}

_EMAIL_RE = re.compile(EMAIL_PATTERN)
_PHONE_RE = re.compile(PHONE_PATTERN)

for _name, _pattern in PII_PATTERNS.items():  # the portability promise above, enforced at import
    if any(ch in _pattern for ch in "\\'\"`"):
        raise AssertionError(f"{_name} pattern must not contain backslashes or quotes")


def redact_free_text(col: Column) -> Column:
    """Replace every email and phone pattern in a string column with ``[email]`` / ``[phone]``.

    Emails are replaced first (an address can contain digit groups that look like a
    phone). Null stays null.

    :param col: a string column.
    :returns: the redacted string column.

    Example::

        df.withColumn("query", redact_free_text(F.col("query")))
    """
    no_email = F.when(F.instr(col, "@") > 0, F.regexp_replace(col, EMAIL_PATTERN, EMAIL_TOKEN)).otherwise(col)
    return F.regexp_replace(no_email, PHONE_PATTERN, PHONE_TOKEN)


def redact_free_text_sql(expr: str) -> str:
    """SQL text of :func:`redact_free_text` applied to a SQL expression (the patterns need no escaping).

    Example::

        redact_free_text_sql("payload.query")
    """
    no_email = (
        f"case when instr({expr}, '@') > 0 "
        f"then regexp_replace({expr}, '{EMAIL_PATTERN}', '{EMAIL_TOKEN}') else {expr} end"
    )
    return f"regexp_replace({no_email}, '{PHONE_PATTERN}', '{PHONE_TOKEN}')"


def contains_pii(col: Column) -> Column:
    """True where a string column matches the email or the phone pattern (the DQ rule's test).

    Example::

        df.filter(contains_pii(F.to_json(F.struct("*"))))
    """
    return ((F.instr(col, "@") > 0) & col.rlike(EMAIL_PATTERN)) | col.rlike(PHONE_PATTERN)


def redact_text(text: str) -> str:
    """Python twin of :func:`redact_free_text`, for tests and log messages.

    Example::

        redact_text("call +15551234567")  # 'call [phone]'
    """
    return _PHONE_RE.sub(PHONE_TOKEN, _EMAIL_RE.sub(EMAIL_TOKEN, text))
