-- One row per payment: the latest revision, flat columns for every queried field and the
-- whole payment as protobuf bytes.
CREATE TABLE IF NOT EXISTS payments (
    payment_id     TEXT    NOT NULL UNIQUE,
    revision       INTEGER NOT NULL,
    payment_type   INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    created_at     INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
    originator_id  TEXT    NOT NULL,
    beneficiary_id TEXT    NOT NULL,
    amount_minor   INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    row_key        TEXT    NOT NULL, -- the seed's HBase row key, with the payment id
    body           BLOB    NOT NULL, -- payments.v1.Payment
    stored_at      INTEGER NOT NULL  -- microseconds since the Unix epoch
);
-- A rowid table (not WITHOUT ROWID): rows carry kilobyte bodies, and scans of the narrow
-- indexes below should not have to read them.

-- time range (the seed's /payments/time-range) and keyset pagination
CREATE INDEX IF NOT EXISTS payments_by_created ON payments (created_at, payment_id);
-- type + customer (+ time): the seed's type-customer and date-type-customer queries
CREATE INDEX IF NOT EXISTS payments_by_type_originator ON payments (payment_type, originator_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_originator ON payments (originator_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_beneficiary ON payments (beneficiary_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_status ON payments (status, created_at);
-- GetStats: an index-only scan instead of reading every body
CREATE INDEX IF NOT EXISTS payments_for_stats ON payments (payment_type, status, currency, amount_minor);
