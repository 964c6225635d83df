-- The product's ledger: a double-entry journal plus the business documents it posts.
-- Money is BIGINT in the currency's minor units with a lowercase ISO 4217 code; exponents
-- and the list of accepted currencies live in the close's data files, not here, so that a
-- row in an unknown currency reaches the close as an exception instead of vanishing.

CREATE SCHEMA ledger;

CREATE DOMAIN ledger.currency_code AS text CHECK (VALUE ~ '^[a-z]{3}$');

-- Chart of accounts. Line amounts are signed: debit > 0, credit < 0.
CREATE TABLE ledger.account (
    account_code text PRIMARY KEY,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('asset', 'liability', 'equity', 'revenue', 'expense'))
);

CREATE TABLE ledger.journal_entry (
    entry_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posted_at   timestamptz NOT NULL,
    lbg_id      text,
    source_kind text NOT NULL CHECK (source_kind IN ('payment', 'refund', 'dispute', 'payout', 'fee', 'adjustment')),
    source_id   text NOT NULL,
    description text NOT NULL DEFAULT ''
);

CREATE TABLE ledger.journal_line (
    entry_id     bigint NOT NULL REFERENCES ledger.journal_entry (entry_id),
    line_no      smallint NOT NULL CHECK (line_no > 0),
    account_code text NOT NULL REFERENCES ledger.account (account_code),
    amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
    currency     ledger.currency_code NOT NULL,
    PRIMARY KEY (entry_id, line_no)
);

-- Business documents, each tied to its booking (lbg_id) and to the processor object id.
CREATE TABLE ledger.invoice (
    invoice_id     text PRIMARY KEY,
    lbg_id         text NOT NULL,
    processor_ref  text UNIQUE,  -- Stripe in_...
    currency       ledger.currency_code NOT NULL,
    subtotal_minor bigint NOT NULL,
    tax_minor      bigint NOT NULL,
    total_minor    bigint NOT NULL,
    issued_at      timestamptz NOT NULL,
    CHECK (total_minor = subtotal_minor + tax_minor)
);

CREATE TABLE ledger.payment (
    payment_id    text PRIMARY KEY,
    lbg_id        text NOT NULL,
    invoice_id    text REFERENCES ledger.invoice (invoice_id),
    processor_ref text NOT NULL,  -- Stripe ch_... (the captured charge)
    product_line  text NOT NULL,
    amount_minor  bigint NOT NULL,
    currency      ledger.currency_code NOT NULL,
    captured_at   timestamptz NOT NULL,
    entry_id      bigint NOT NULL REFERENCES ledger.journal_entry (entry_id)
);

CREATE TABLE ledger.refund (
    refund_id     text PRIMARY KEY,
    payment_id    text NOT NULL REFERENCES ledger.payment (payment_id),
    lbg_id        text NOT NULL,
    processor_ref text NOT NULL,  -- Stripe re_...
    amount_minor  bigint NOT NULL,
    currency      ledger.currency_code NOT NULL,
    refunded_at   timestamptz NOT NULL,
    entry_id      bigint NOT NULL REFERENCES ledger.journal_entry (entry_id)
);

CREATE TABLE ledger.tax_line (
    tax_line_id          text PRIMARY KEY,
    payment_id           text NOT NULL REFERENCES ledger.payment (payment_id),
    lbg_id               text NOT NULL,
    processor_ref        text,  -- Stripe Tax tax_... when the provider is Stripe Tax
    jurisdiction_country text NOT NULL CHECK (jurisdiction_country ~ '^[A-Z]{2}$'),
    jurisdiction_state   text NOT NULL DEFAULT '',
    taxable_minor        bigint NOT NULL,
    tax_minor            bigint NOT NULL,
    currency             ledger.currency_code NOT NULL,
    posted_at            timestamptz NOT NULL
);

CREATE TABLE ledger.dispute (
    dispute_id    text PRIMARY KEY,
    payment_id    text NOT NULL REFERENCES ledger.payment (payment_id),
    lbg_id        text NOT NULL,
    processor_ref text NOT NULL,  -- Stripe du_... / dp_...
    amount_minor  bigint NOT NULL,
    currency      ledger.currency_code NOT NULL,
    status        text NOT NULL CHECK (status IN ('needs_response', 'under_review', 'won', 'lost')),
    opened_at     timestamptz NOT NULL,
    closed_at     timestamptz,
    entry_id      bigint NOT NULL REFERENCES ledger.journal_entry (entry_id)
);

-- A payout settles many bookings, so it has no lbg_id of its own.
CREATE TABLE ledger.payout (
    payout_id     text PRIMARY KEY,
    processor_ref text NOT NULL UNIQUE,  -- Stripe po_...
    amount_minor  bigint NOT NULL,
    currency      ledger.currency_code NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'in_transit', 'paid', 'failed', 'canceled')),
    created_at    timestamptz NOT NULL,
    arrival_date  date NOT NULL,
    entry_id      bigint REFERENCES ledger.journal_entry (entry_id)
);

CREATE INDEX journal_entry_posted_at ON ledger.journal_entry (posted_at);
CREATE INDEX payment_captured_at ON ledger.payment (captured_at);
CREATE INDEX refund_refunded_at ON ledger.refund (refunded_at);
CREATE INDEX tax_line_posted_at ON ledger.tax_line (posted_at);
