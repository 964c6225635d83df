"""Property: no generated email or phone survives into any Silver string of to_canonical's valid rows."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lakehouse.events import to_canonical

from events.cases import charge, collect, eventbridge, ses, stripe_event, webhook
from events.conftest import INPUT_SCHEMA

phones = st.builds(
    lambda cc, r, fmt: fmt.format(cc=cc, a=r[:3], b=r[3:6], c=r[6:]),
    st.from_regex(r"[1-9][0-9]?", fullmatch=True),
    st.from_regex(r"[0-9]{10}", fullmatch=True),
    st.sampled_from(
        ["+{cc}{a}{b}{c}", "+{cc} {a} {b} {c}", "({a}) {b}-{c}", "{a}.{b}.{c}", "+{cc} ({a}) {b}-{c}"]
    ),
)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(emails=st.lists(st.emails(), min_size=6, max_size=6), numbers=st.lists(phones, min_size=6, max_size=6))
def test_no_generated_pii_survives(spark, registry, pii, emails, numbers):
    lines = []
    for i, (email, phone) in enumerate(zip(emails, numbers, strict=True)):
        lines.append(
            (
                "collect",
                collect(
                    "signup_completed", 1, {"method": "email", "email": email, "phone": phone}, n=100 + i
                ),
            )
        )
        lines.append(("collect", collect("search_performed", 1, {"query": f"{email} / {phone}"}, n=200 + i)))
        lines.append(
            (
                "collect",
                collect("page_viewed", 1, {"url": f"https://a.example/?e={email}&p={phone}"}, n=300 + i),
            )
        )
        lines.append(
            (
                "eventbridge",
                eventbridge(
                    "complaint_filed",
                    {
                        "complaint_id": "c",
                        "category": "other",
                        "description": f"mail {email} or ring {phone}.",
                        "contact_email": email,
                        "contact_phone": phone,
                    },
                    f"d-{i}",
                ),
            )
        )
        obj = charge()
        obj["billing_details"] = {"email": email, "phone": phone, "name": "N"}
        obj["receipt_email"] = email
        obj["description"] = f"for {email}"
        lines.append(
            (
                "webhooks/stripe",
                webhook("stripe", stripe_event(f"evt_p{i}", "charge.succeeded", 1714557600, obj)),
            )
        )
        record = ses(
            "Bounce",
            "bounce",
            {
                "bounceType": "Permanent",
                "timestamp": "2024-05-01T10:00:00Z",
                "bouncedRecipients": [{"emailAddress": email, "diagnosticCode": f"550 {email}"}],
            },
            recipients=(email,),
        )
        lines.append(("webhooks/ses", webhook("ses", record)))
    df = spark.createDataFrame([(v, c, "f", i, None) for i, (c, v) in enumerate(lines)], INPUT_SCHEMA)
    # persist first (as the job does): a filter on is_valid must not be pushed into the canonical plan
    canonical = to_canonical(df, registry, max_record_bytes=65536, pii=pii).persist()
    out = [r for r in canonical.drop("raw_record").collect() if r.is_valid]
    canonical.unpersist()
    assert len(out) == len(lines), "every generated line should be valid"
    needles = list(emails) + [e.lower() for e in emails] + list(numbers)
    for row in out:
        for column, value in row.asDict().items():
            if isinstance(value, str):
                for needle in needles:
                    assert needle not in value, (column, needle, value)
        json.loads(row.payload)
