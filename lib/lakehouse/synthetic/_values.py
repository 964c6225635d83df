"""Value pools and fast helpers for the synthetic Bronze generator.

Everything here is deterministic given a ``random.Random``; nothing reads the clock.
Emails and phones look like real user input (mixed case, ``+tags``, national and
international phone formats) so that the PII hashing and redaction are exercised, but
they only use reserved example domains and fictional number ranges (Ofcom drama
numbers, North American 555-01xx).
"""

from __future__ import annotations

import base64
import time
from functools import lru_cache
from random import Random

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"

FIRST_NAMES = (
    "Jane", "John", "Amelia", "Oliver", "Sofia", "Liam", "Chloé", "Mateo", "Zoë", "Noah", "Aisha", "Hiro",
    "Priya", "Lukas", "Emma", "Ines", "Mohammed", "Olivia", "Yuki", "Lars", "Fatima", "Diego", "Anna", "José",
    "Łukasz", "Grace", "Ethan", "Mia", "Ravi", "Sven",
)  # fmt: skip
LAST_NAMES = (
    "Doe", "Smith", "García", "Müller", "Rossi", "Okafor", "Tanaka", "Nguyen", "Kowalski", "Johnson", "Brown",
    "Dubois", "Silva", "Jensen", "O'Brien", "Patel", "Khan", "Schmidt", "Novak", "Andersson", "Ivanova",
    "Hernández", "Moreau", "Lee", "Walker",
)  # fmt: skip
ASCII_FOLD = str.maketrans(
    {
        "é": "e",
        "ë": "e",
        "ü": "u",
        "í": "i",
        "á": "a",
        "ó": "o",
        "Ł": "L",
        "ł": "l",
        "'": "",
        "Ö": "O",
        "ö": "o",
    }
)
EMAIL_DOMAINS = (
    "example.com",
    "Example.com",
    "example.org",
    "example.net",
    "mail.example.co.uk",
    "EXAMPLE.COM",
)
SENDER_DOMAIN = "mail.acme-travel.example"

# Phone formats as users type them; every one is a fictional range.
PHONE_TEMPLATES = (
    "+44 20 7946 0{d3}",  # London drama range, international
    "020 7946 0{d3}",  # same, national
    "+44 7700 900{d3}",  # UK mobile drama range
    "07700 900{d3}",
    "(415) 555-01{d2}",  # North American fictional
    "+1 (212) 555-01{d2}",
    "+1 415-555-01{d2}",
    "+1415555{d4}",  # E.164 already
    "+33 1 99 00 {d2} {d2b}",  # French fictional range
)

LOCALES = ("en-GB", "en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "nl-NL", "pl-PL", "pt-BR")
APPS = ("web", "web", "web", "ios", "android")
APP_VERSIONS = ("5.12.0", "5.12.1", "5.13.0", "5.14.2", "6.0.0")
USER_AGENTS = {
    "web": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Mobile/15E148 Safari/604.1",
    ),
    "ios": (
        "AcmeTravel/5.13.0 (iPhone15,2; iOS 17.4.1; Scale/3.00) CFNetwork/1494.0.7 Darwin/23.4.0",
        "AcmeTravel/5.12.1 (iPad13,4; iPadOS 17.3; Scale/2.00) CFNetwork/1490.0.4 Darwin/23.2.0",
    ),
    "android": (
        "AcmeTravel/5.13.0 (Linux; Android 14; Pixel 8 Build/AP1A.240405.002) okhttp/4.12.0",
        "AcmeTravel/5.12.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014) okhttp/4.11.0",
    ),
}
PAGES = (
    ("/", "Acme Travel - Book trains, flights and buses"),
    ("/search", "Search results"),
    ("/trips/{lbg}", "Your trip"),
    ("/trips/{lbg}/legs/{leg}", "Trip leg details"),
    ("/checkout/{lbg}", "Checkout"),
    ("/account", "Your account"),
    ("/help/refunds", "Refunds and cancellations - Help centre"),
    ("/deals/summer-{n}", "Summer deals"),
)
REFERRERS = (
    "",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://www.acme-travel.example/",
    "https://news.example.com/travel/best-rail-trips-{n}",
    "android-app://com.google.android.gm/",
)
SCREENS = ("home", "search", "search_results", "trip_detail", "leg_detail", "checkout", "account", "help")
SEARCH_TERMS = (
    "london to paris",
    "cheap flights madrid",
    "train berlin munich tomorrow",
    "refund policy",
    "change my booking",
    "bus lisbon porto",
    "night train vienna",
    "family tickets rome",
    "cancel trip",
    "lost luggage",
)
AIRPORTS = (
    "LHR",
    "LGW",
    "CDG",
    "AMS",
    "FRA",
    "MAD",
    "BCN",
    "FCO",
    "MUC",
    "DUB",
    "LIS",
    "VIE",
    "CPH",
    "NRT",
    "JFK",
)
CURRENCIES = ("EUR", "EUR", "GBP", "GBP", "USD", "USD", "JPY")
ZERO_DECIMAL = frozenset({"JPY"})
CANCEL_REASONS = ("customer_request", "schedule_change", "payment_failed", "duplicate_booking", "other")
REFUND_REASONS = (
    "requested_by_customer",
    "duplicate",
    "fraudulent",
    "cancellation",
    "service_issue",
    "other",
)
COMPLAINT_CATEGORIES = ("billing", "service", "safety", "other")
COMPLAINT_TEXTS = (
    "I was charged twice for the same trip, please refund one of the payments.",
    "The train was two hours late and nobody told us. Call me back on {phone} or mail {email}.",
    "The driver was rude and the bus was dirty.",
    "Seat reservation missing although I paid for it. My email is {email}.",
    "Luggage was damaged during the transfer.",
    "Refund still not received after 14 days.",
)
DOC_IPS = ("192.0.2.", "198.51.100.", "203.0.113.")
JURISDICTIONS = (
    ("GB", None), ("DE", None), ("FR", None), ("ES", None), ("IT", None), ("NL", None), ("IE", None),
    ("US", "CA"), ("US", "NY"), ("US", "TX"), ("JP", None),
)  # fmt: skip
CARD_BRANDS = (("visa", "credit"), ("mastercard", "credit"), ("visa", "debit"), ("amex", "credit"))
STRIPE_API_VERSIONS = ("2023-10-16", "2024-06-20", "2024-06-20")
EMAIL_SUBJECTS = (
    "Your booking is confirmed",
    "Your e-ticket for {dest}",
    "Payment receipt",
    "Your trip starts tomorrow",
    "We have refunded your payment",
    "Please sign your travel agreement",
)


_B64_TO_B62 = bytes.maketrans(b"+/", b"Xq")


def b62(rng: Random, n: int) -> str:
    """``n`` random alphanumeric characters (base64 of random bits with ``+/`` mapped to letters)."""
    raw = rng.getrandbits(6 * n + 24).to_bytes((6 * n + 24 + 7) // 8, "little")
    return base64.b64encode(raw).translate(_B64_TO_B62)[:n].decode("ascii")


def uuid4(rng: Random) -> str:
    """A version-4 UUID string from ``rng`` (faster than ``uuid.UUID``)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{HEX[8 + (int(h[16], 16) & 3)]}{h[17:20]}-{h[20:32]}"


@lru_cache(maxsize=4096)
def _minute_prefix(minute: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))


def iso_ms(ms: int) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` from epoch milliseconds."""
    minute, rest = divmod(ms, 60_000)
    sec, milli = divmod(rest, 1000)
    return f"{_minute_prefix(minute)}{sec:02d}.{milli:03d}Z"


def iso_s(ms: int) -> str:
    """ISO-8601 UTC with whole seconds and ``Z`` (EventBridge ``time`` style)."""
    minute, rest = divmod(ms, 60_000)
    return f"{_minute_prefix(minute)}{rest // 1000:02d}Z"


def person(rng: Random) -> tuple[str, str]:
    """(display name, email as a user would type it)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    f_ascii, l_ascii = first.translate(ASCII_FOLD), last.translate(ASCII_FOLD)
    style = rng.random()
    if style < 0.35:
        local = f"{f_ascii}.{l_ascii}"
    elif style < 0.55:
        local = f"{f_ascii.lower()}.{l_ascii.lower()}{rng.randrange(1, 99)}"
    elif style < 0.7:
        local = f"{f_ascii}.{l_ascii}+{rng.choice(('travel', 'x', 'acme', 'bookings'))}"
    elif style < 0.85:
        local = f"{f_ascii[0].lower()}{l_ascii.lower()}"
    else:
        local = f"{f_ascii.lower()}_{l_ascii.lower()}{rng.randrange(1970, 2006)}"
    return f"{first} {last}", f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def phone(rng: Random) -> str:
    """A phone number in one of the formats users type (all fictional ranges)."""
    template = rng.choice(PHONE_TEMPLATES)
    return template.format(
        d2=f"{rng.randrange(100):02d}",
        d2b=f"{rng.randrange(100):02d}",
        d3=f"{rng.randrange(1000):03d}",
        d4=f"{rng.randrange(100, 200):04d}",
    )


def ip(rng: Random) -> str:
    return f"{rng.choice(DOC_IPS)}{rng.randrange(1, 255)}"


def money(rng: Random, currency: str, low: int, high: int) -> int:
    """An amount in minor units; ``low``/``high`` are in major units (whole yen for JPY)."""
    major = rng.randrange(low, high)
    if currency in ZERO_DECIMAL:
        return major * 150 // 100 * 100  # whole yen, rounded to 100
    return major * 100 + rng.choice((0, 0, 50, 99, rng.randrange(100)))


FILLER_WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua "
)


def filler(n_bytes: int) -> str:
    """ASCII filler text of exactly ``n_bytes`` characters."""
    reps = n_bytes // len(FILLER_WORDS) + 1
    return (FILLER_WORDS * reps)[:n_bytes]
