-- One row per payment: the latest revision, flat columns for every queried field, the whole
-- payment as protobuf bytes (read back exactly) and as proto3 JSON in JSONB (for SQL users).
CREATE TABLE IF NOT EXISTS payments (
    payment_id     TEXT        PRIMARY KEY,
    revision       BIGINT      NOT NULL,
    payment_type   INTEGER     NOT NULL,
    status         INTEGER     NOT NULL,
    created_at     BIGINT      NOT NULL, -- microseconds since the Unix epoch, UTC
    originator_id  TEXT        NOT NULL,
    beneficiary_id TEXT        NOT NULL,
    amount_minor   BIGINT      NOT NULL,
    currency       TEXT        NOT NULL,
    row_key        TEXT        NOT NULL, -- the seed's HBase row key, with the payment id
    body           BYTEA       NOT NULL, -- payments.v1.Payment
    doc            JSONB       NOT NULL, -- the same payment as proto3 JSON
    stored_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- time range (the seed's /payments/time-range) and keyset pagination
CREATE INDEX IF NOT EXISTS payments_by_created ON payments (created_at, payment_id);
-- type + customer (+ time): the seed's type-customer and date-type-customer queries
CREATE INDEX IF NOT EXISTS payments_by_type_originator ON payments (payment_type, originator_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_originator ON payments (originator_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_beneficiary ON payments (beneficiary_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_status ON payments (status, created_at);
