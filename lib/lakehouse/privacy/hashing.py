"""Keyed HMAC-SHA256 hashing of emails and phones with Spark built-ins only.

HMAC (RFC 2104) is ``H((K ^ opad) || H((K ^ ipad) || m))``. The key is known at plan
time, so the XORs happen here in Python and the two padded keys enter the plan as
literal binary columns; Spark computes ``sha2`` twice per value. The result equals
``hmac.new(key, m, hashlib.sha256).hexdigest()`` (a property test proves it).

**Stored format.** A hashed value is ``<key version>:<64 lower-case hex>``, e.g.
``v1:9f86d0...``. The version travels with the value, so a key rotation can never
silently break a join: hashes made with different keys visibly differ in prefix.

**Normalization** (before hashing):

- email: ``lower(trim(x))``.
- phone: trim; remove spaces, tabs, dashes, dots, slashes and parentheses; a leading
  ``00`` becomes ``+``. ``+`` followed by 7 to 15 digits (first digit 1-9) is E.164
  and is hashed as such. A number without ``+`` is national: with a configured
  ``default_phone_country`` (e.g. ``"44"``) its trunk ``0`` is dropped and the
  country code prefixed; without one (the default) the **digits-only form** is hashed
  (so it joins only with numbers entered the same national way, never falsely).
  A value with no digit at all hashes to null.

**Keys.** ``{"current": "v1", "keys": {"v1": "<secret>"}}`` from a local file
(development) or Secrets Manager (AWS). A secret is hex (even length, hex digits
only), base64, or explicitly prefixed ``hex:`` / ``base64:``; at least 16 bytes.
Optional ``"id_key"`` names the key used for *deterministic ids* (SES event ids); it
defaults to the oldest version so that ids stay stable when ``current`` rotates.
Optional ``"default_phone_country"`` is a calling code without ``+``.

Example::

    pii = PiiHasher.from_key_file("config/pii_keys.local.json")
    df.select(pii.hash_email(F.col("email")).alias("email_hash"))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

DEV_KEY_VERSION = "dev"
# Fixed development key: NOT SECRET, never used outside local runs and tests.
_DEV_KEY = b"lakehouse-DEVELOPMENT-ONLY-pii-hmac-key-do-not-use-in-aws"

HASH_VALUE_PATTERN = "^[a-z][a-z0-9]*:[0-9a-f]{64}$"
_VERSION_RE = re.compile(r"^[a-z][a-z0-9]*$")
_BLOCK = 64  # SHA-256 block size in bytes
_FLAT_SETTINGS = ("current_version", "id_key", "default_phone_country")
_PLACEHOLDER = "__pii_input__"


class PiiKeyError(ValueError):
    """Malformed or missing PII key configuration."""


def _decode_secret(version: str, raw: str) -> bytes:
    text = raw.strip()
    try:
        if text.startswith("hex:"):
            key = bytes.fromhex(text[4:])
        elif text.startswith("base64:"):
            key = base64.b64decode(text[7:], validate=True)
        elif re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
            key = bytes.fromhex(text)
        else:
            key = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise PiiKeyError(f"PII key {version!r} is neither hex nor base64") from exc
    if len(key) < 16:
        raise PiiKeyError(f"PII key {version!r} is shorter than 16 bytes")
    return key


def _version_order(version: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", version)
    return (int(digits) if digits else -1, version)


def normalize_email(col: Column) -> Column:
    """``lower(trim(email))``; null stays null.

    Example::

        normalize_email(F.lit("  Ann@Example.COM "))  # 'ann@example.com'
    """
    return F.lower(F.trim(col))


def normalize_phone(col: Column, default_country: str | None = None) -> Column:
    """Phone number to E.164 where possible (see the module docstring for the rules).

    Written so that the input appears only a few times and nothing nests deeply: the SQL
    form of this expression is embedded once per phone field in the canonical payload.

    :param col: a string column.
    :param default_country: calling code (digits, no ``+``) for national numbers, or None.
    :returns: ``+<digits>`` for E.164, else the digits-only form; null when no digit.

    Example::

        normalize_phone(F.lit("0044 (20) 7946-0958"))  # '+442079460958'
    """
    if default_country and not re.fullmatch(r"[1-9]\d{0,2}", default_country):
        raise PiiKeyError(f"default_phone_country must be a calling code like '44', got {default_country!r}")
    cleaned = F.regexp_replace(F.regexp_replace(F.trim(col), r"[\s().\-/]", ""), "^00", "+")
    digits = F.nullif(F.regexp_replace(cleaned, r"\D", ""), F.lit(""))
    if default_country:
        other = F.when(cleaned.startswith("+"), digits).otherwise(
            F.concat(F.lit("+" + default_country), F.regexp_replace(digits, "^0", ""))
        )
    else:
        other = digits
    return F.when(cleaned.rlike(r"^\+[1-9][0-9]{6,14}$"), cleaned).otherwise(other)


class PiiHasher:
    """Versioned HMAC-SHA256 keys and the Spark expressions that hash with them.

    :param keys: key version -> key bytes.
    :param current: the version used to hash new values.
    :param id_key: the version used for deterministic ids (default: the oldest).
    :param default_phone_country: calling code for national phone numbers, or None.

    Example::

        pii = PiiHasher({"v1": secret_bytes}, "v1")
        pii.hash_phone(F.col("phone"))
    """

    def __init__(
        self,
        keys: Mapping[str, bytes],
        current: str,
        *,
        id_key: str | None = None,
        default_phone_country: str | None = None,
    ) -> None:
        if not keys:
            raise PiiKeyError("no PII keys configured")
        for version in keys:
            if not _VERSION_RE.match(version):
                raise PiiKeyError(f"PII key version {version!r} must match {_VERSION_RE.pattern}")
        if current not in keys:
            raise PiiKeyError(f"current PII key {current!r} is not among the keys {sorted(keys)}")
        self._keys = dict(keys)
        self.current = current
        self.id_key = id_key or min(keys, key=_version_order)
        if self.id_key not in keys:
            raise PiiKeyError(f"id_key {self.id_key!r} is not among the keys {sorted(keys)}")
        self.default_phone_country = default_phone_country
        self._sql_templates: dict[str, str] = {}

    def __repr__(self) -> str:  # never show key material
        return f"PiiHasher(current={self.current!r}, versions={sorted(self._keys)}, id_key={self.id_key!r})"

    # ----------------------------------------------------------------------------- constructors
    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PiiHasher:
        """Build from the parsed JSON document ``{"current": ..., "keys": {...}}``.

        Example::

            PiiHasher.from_config({"current": "v1", "keys": {"v1": "00" * 32}})
        """
        if isinstance(config, Mapping) and "current_version" in config and "keys" not in config:
            # The flat form Secrets Manager generates (infra/templates/security.yaml):
            # {"current_version": "v1", "v1": "<secret>", "v2": ...}
            versions = {k: v for k, v in config.items() if k not in _FLAT_SETTINGS}
            config = {**{k: config[k] for k in _FLAT_SETTINGS if k in config}, "keys": versions}
            config["current"] = config.pop("current_version")
        if not isinstance(config, Mapping) or "current" not in config or "keys" not in config:
            raise PiiKeyError(
                'PII key config must be {"current": "<version>", "keys": {"<version>": "<secret>"}}'
            )
        raw_keys = config["keys"]
        if not isinstance(raw_keys, Mapping):
            raise PiiKeyError('"keys" must be an object of version -> secret')
        keys = {str(v): _decode_secret(str(v), str(s)) for v, s in raw_keys.items()}
        return cls(
            keys,
            str(config["current"]),
            id_key=config.get("id_key"),
            default_phone_country=config.get("default_phone_country"),
        )

    @classmethod
    def from_key_file(cls, path: str | Path) -> PiiHasher:
        """Read the key JSON from a local file (development).

        Example::

            PiiHasher.from_key_file("config/pii_keys.local.json")
        """
        try:
            config = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise PiiKeyError(f"cannot read PII key file {path}: {exc}") from exc
        hasher = cls.from_config(config)
        log.info("PII keys loaded from file: %r", hasher)
        return hasher

    @classmethod
    def from_secrets_manager(cls, secret_id: str, client: Any) -> PiiHasher:
        """Read the key JSON from AWS Secrets Manager with a caller-supplied boto3 client.

        Example::

            PiiHasher.from_secrets_manager("prod/lakehouse/pii", boto3.client("secretsmanager"))
        """
        response = client.get_secret_value(SecretId=secret_id)
        text = response.get("SecretString")
        if text is None:
            text = (
                base64.b64decode(response["SecretBinary"]).decode("utf-8")
                if isinstance(response.get("SecretBinary"), str)
                else bytes(response["SecretBinary"]).decode("utf-8")
            )
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PiiKeyError(f"secret {secret_id} is not JSON") from exc
        hasher = cls.from_config(config)
        log.info("PII keys loaded from Secrets Manager secret %s: %r", secret_id, hasher)
        return hasher

    @classmethod
    def for_development(cls) -> PiiHasher:
        """A fixed, public, clearly-labelled key (version ``dev``) for local runs and tests.

        Hashes made with it start with ``dev:``, so they can never pass for production hashes.

        Example::

            PiiHasher.for_development().key_version  # 'dev'
        """
        log.warning("using the DEVELOPMENT PII key: hashes are not secret")
        return cls({DEV_KEY_VERSION: _DEV_KEY}, DEV_KEY_VERSION)

    # ----------------------------------------------------------------------------- properties
    @property
    def key_version(self) -> str:
        """The version new hashes are made with."""
        return self.current

    @property
    def versions(self) -> tuple[str, ...]:
        """All configured key versions."""
        return tuple(sorted(self._keys, key=_version_order))

    def key_bytes(self, version: str | None = None) -> bytes:
        """Key material of one version (for reference computations in tests)."""
        return self._keys[version or self.current]

    # ----------------------------------------------------------------------------- expressions
    def hmac_hex(self, message: Column, version: str | None = None) -> Column:
        """HMAC-SHA256 of a string column (UTF-8 bytes) as 64 lower-case hex chars; null stays null.

        Example::

            pii.hmac_hex(F.col("normalized_email"))
        """
        key = self._keys[version or self.current]
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\x00")
        k_ipad = bytearray(b ^ 0x36 for b in key)
        k_opad = bytearray(b ^ 0x5C for b in key)
        inner = F.unhex(F.sha2(F.concat(F.lit(k_ipad), F.encode(message, "UTF-8")), 256))
        return F.sha2(F.concat(F.lit(k_opad), inner), 256)

    def _versioned(self, message: Column) -> Column:
        # concat/sha2 propagate null, so a null message gives null without a CASE around it.
        return F.concat(F.lit(self.current + ":"), self.hmac_hex(message))

    def hash_email(self, col: Column) -> Column:
        """``<version>:<hmac hex>`` of ``lower(trim(email))``; null stays null.

        Example::

            df.withColumn("email_hash", pii.hash_email(F.col("email"))).drop("email")
        """
        return self._versioned(normalize_email(col))

    def hash_phone(self, col: Column) -> Column:
        """``<version>:<hmac hex>`` of the E.164 (or digits-only) phone; null stays null.

        Example::

            df.withColumn("phone_hash", pii.hash_phone(F.col("phone"))).drop("phone")
        """
        return self._versioned(normalize_phone(col, self.default_phone_country))

    def normalize_phone(self, col: Column) -> Column:
        """:func:`normalize_phone` with this hasher's default country."""
        return normalize_phone(col, self.default_phone_country)

    def sql(self, kind: str, expr: str) -> str:
        """The SQL text of ``hash_email`` / ``hash_phone`` / ``id_digest`` applied to a SQL expression.

        Rendered once per kind from the Column expression itself (so SQL and Column forms
        cannot drift) and cached; used to build large plans with few Py4J calls.

        Example::

            pii.sql("hash_email", "payload.email")  # "CASE WHEN ... sha2(concat(X'...', ...)) ..."
        """
        if kind not in ("hash_email", "hash_phone", "id_digest"):
            raise ValueError(f"unknown PII SQL kind {kind!r}")
        template = self._sql_templates.get(kind)
        if template is None:
            template = getattr(self, kind)(F.col(_PLACEHOLDER))._jc.expr().sql()
            self._sql_templates[kind] = template
        return template.replace(_PLACEHOLDER, f"({expr})")

    def id_digest(self, message: Column) -> Column:
        """Unprefixed HMAC hex under the *id key*: for deterministic ids that must survive rotation.

        Example::

            pii.id_digest(F.lower(F.trim(F.col("recipient"))))
        """
        return self.hmac_hex(message, self.id_key)
