"""Payments in the shapes the seed's generators wrote, for the compatibility tests.

    python3 tests/seed/seed_shapes.py SHAPE --per-type N [--seed S] [--out FILE]

SHAPE is one of:
  first          `generate_transactions.py` at the seed's first commit: nine rails, the layout of
                 tests/fixtures/seed-transactions.json (which that commit wrote).
  head           `generate_transactions.py` at the seed's newest commit: the same, but RTPs
                 as its newest `generate_rtp_payment` makes them (processing_window REAL_TIME,
                 `confirmation {required, window_minutes}`, `timing {submission_time,
                 expected_settlement_time}`, empty references and regulatory).
  stream         `streaming_producer.py` at the newest commit: its seven rails (no standing
                 orders, no P2P), newest shapes, each with the `generated_at` it adds.
  test-producer  `test_producer.py`: types CREDIT, DEBIT and TRANSFER, which no rail is.

Each record is made from a fixture record of its rail with new ids, times, amounts and
parties, so every member the seed wrote is there with a value of the seed's type. The output
is `{"transactions": [...]}`, as `generate_transactions.py` saves it. Standard library only.
"""

import argparse
import copy
import json
import pathlib
import random
import sys
import uuid
from datetime import datetime, timedelta

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "seed-transactions.json"
RAILS = ["ACH", "WIRE", "CHECK", "RTP", "SEPA_CREDIT_TRANSFER", "CARD_PAYMENT", "DIRECT_DEBIT",
         "STANDING_ORDER", "P2P"]
STREAM_RAILS = ["ACH", "WIRE", "CHECK", "RTP", "SEPA_CREDIT_TRANSFER", "CARD_PAYMENT",
                "DIRECT_DEBIT"]
STATUSES = ["RECEIVED", "PROCESSING", "COMPLETED", "FAILED", "PENDING", "VALIDATED"]
ID_PREFIX = {"SEPA_CREDIT_TRANSFER": "SEPA", "CARD_PAYMENT": "CARD", "DIRECT_DEBIT": "DD",
             "STANDING_ORDER": "SO"}
# Members that hold a date-time, wherever they are; they move with the payment's creation.
TIME_KEYS = {"created_at", "updated_at", "submission_date", "effective_date", "settlement_date",
             "date_of_signature", "collection_date", "start_date", "end_date", "next_execution",
             "previous_execution", "confirmation_timestamp", "submission_timestamp",
             "settlement_timestamp", "expiry_timestamp", "timestamp"}


_ISSUED = set()


def hex_id(n=8):
    """A new upper-case hex id, as the seed's `uuid4().hex[:8].upper()`, never one issued before
    in this run."""
    while True:
        candidate = uuid.uuid4().hex[:n].upper()
        if candidate not in _ISSUED:
            _ISSUED.add(candidate)
            return candidate


def templates():
    transactions = json.loads(FIXTURE.read_text())["transactions"]
    by_rail = {}
    for t in transactions:
        by_rail.setdefault(t["payment_type"], []).append(t)
    return by_rail


def shift_times(value, delta):
    """Every date-time member of `value` moved by `delta`, in the seed's isoformat."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TIME_KEYS and isinstance(item, str):
                value[key] = (datetime.fromisoformat(item) + delta).isoformat()
            else:
                shift_times(item, delta)
    elif isinstance(value, list):
        for item in value:
            shift_times(item, delta)


def new_party(party, rng):
    party = copy.deepcopy(party)
    party["party_id"] = f"CUST{hex_id()}"
    party["name"] = f"{rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'])} " \
                    f"{rng.choice(['Holdings', 'and Sons', 'LLC', 'Group', 'Partners'])}"
    account = party.get("account_info") or {}
    if "account_id" in account:
        account["account_id"] = f"ACC{rng.randrange(10**9, 10**10)}"
    return party


# Each shape's payment ids begin with a digit of its own and go on with the record's number,
# so files of different shapes never share an id; the rest looks like the seed's
# `uuid4().hex[:8].upper()`.
SHAPE_DIGIT = {"first": 1, "head": 2, "stream": 3}


def first_shape(template, index, rng, start, shape="first"):
    record = copy.deepcopy(template)
    rail = record["payment_type"]
    record["payment_id"] = f"{ID_PREFIX.get(rail, rail)}-{SHAPE_DIGIT[shape]:X}{index:07X}"
    created = datetime.fromisoformat(template["created_at"])
    at = start + timedelta(seconds=index * 7, microseconds=rng.randrange(10**6))
    shift_times(record, at - created)
    record["status"] = rng.choice(STATUSES)
    record["amount"]["value"] = round(rng.uniform(10, 100000), 2)
    record["originator"] = new_party(record["originator"], rng)
    record["beneficiary"] = new_party(record["beneficiary"], rng)
    for key in ("end_to_end_id", "transaction_id", "instruction_id"):
        if key in record.get("references", {}):
            record["references"][key] = f"{key[:3].upper()}{hex_id()}"
    return record


def head_rtp(record, rng):
    """An RTP as the newest `generate_rtp_payment` makes it, through `asdict`."""
    submitted = datetime.fromisoformat(record["created_at"])
    settled = submitted + timedelta(seconds=rng.randint(1, 5))
    customer = {k: record["originator"][k] for k in
                ("party_id", "name", "party_type", "account_info", "contact_info")}
    beneficiary = {k: record["beneficiary"][k] for k in
                   ("party_id", "name", "party_type", "account_info", "contact_info")}
    return {
        "payment_id": record["payment_id"],
        "payment_type": "RTP",
        "version": "1.0",
        "created_at": submitted.isoformat(),
        "updated_at": submitted.isoformat(),
        "status": "RECEIVED",
        "amount": {"value": round(rng.uniform(100, 50000), 2), "currency": "USD",
                   "exchange_info": None},
        "originator": customer,
        "beneficiary": beneficiary,
        "processing": {
            "priority": "HIGH",
            "processing_window": "REAL_TIME",
            "submission_date": submitted.isoformat(),
            "effective_date": submitted.isoformat(),
            "settlement_date": settled.isoformat(),
            "status_tracking": {},
        },
        "references": {},
        "remittance_info": {},
        "type_specific_data": {},
        "regulatory": {},
        "metadata": {},
        "clearing_system": "TCH-RTP",
        "settlement_method": "REAL_TIME_GROSS_SETTLEMENT",
        "confirmation": {"required": True, "window_minutes": 1},
        "timing": {"submission_time": submitted.isoformat(),
                   "expected_settlement_time": settled.isoformat()},
    }


def test_producer_shape(rng, at):
    return {
        "payment_id": str(uuid.uuid4()),
        "payment_type": rng.choice(["CREDIT", "DEBIT", "TRANSFER"]),
        "amount": {"value": round(rng.uniform(10, 1000), 2),
                   "currency": rng.choice(["USD", "EUR", "GBP"])},
        "originator": {"party_id": str(rng.randint(1000, 9999)),
                       "name": f"Customer-{rng.randint(1, 100)}"},
        "beneficiary": {"party_id": str(rng.randint(1000, 9999)),
                        "name": f"Merchant-{rng.randint(1, 50)}"},
        "created_at": at.isoformat(),
    }


def generate(shape, per_type, rng, start):
    if shape == "test-producer":
        return [test_producer_shape(rng, start + timedelta(seconds=i)) for i in range(per_type)]
    by_rail = templates()
    rails = STREAM_RAILS if shape == "stream" else RAILS
    out = []
    index = 0
    for rail in rails:
        for n in range(per_type):
            record = first_shape(by_rail[rail][n % len(by_rail[rail])], index, rng, start, shape)
            if rail == "RTP" and shape != "first":
                record = head_rtp(record, rng)
            if shape == "stream":
                generated = datetime.fromisoformat(record["created_at"])
                record["generated_at"] = (generated + timedelta(milliseconds=3)).isoformat()
            out.append(record)
            index += 1
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shape", choices=["first", "head", "stream", "test-producer"])
    parser.add_argument("--per-type", type=int, default=100, help="records per rail (default 100)")
    parser.add_argument("--seed", type=int, default=17, help="random seed (default 17)")
    parser.add_argument("--start", default="2024-12-21T08:00:00",
                        help="creation time of the first record (default 2024-12-21T08:00:00)")
    parser.add_argument("--out", help="file to write (default: standard output)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    records = generate(args.shape, args.per_type, rng, datetime.fromisoformat(args.start))
    text = json.dumps({"transactions": records}, indent=2)
    if args.out:
        pathlib.Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
