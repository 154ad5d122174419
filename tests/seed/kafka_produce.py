"""Sends seed-shaped payments to Kafka the way the seed's producers did, with kafka-python.

    python3 tests/seed/kafka_produce.py --bootstrap HOST:PORT --topic T [--no-key] FILE...

Each FILE is a `{"transactions": [...]}` document (tests/seed/seed_shapes.py writes them).
Every payment is one record: the value `json.dumps(payment)` in UTF-8, the key its
`payment_id` as `streaming_producer.py` sends it, or no key (`--no-key`) as
`test_producer.py` does; no headers. Prints the number of records sent.
"""

import argparse
import json

from kafka import KafkaProducer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--no-key", action="store_true", help="send without a key")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    producer = KafkaProducer(
        bootstrap_servers=[args.bootstrap],
        value_serializer=lambda x: json.dumps(x).encode("utf-8"),
        key_serializer=lambda x: None if x is None else x.encode("utf-8"),
    )
    sent = 0
    for path in args.files:
        with open(path) as f:
            transactions = json.load(f)["transactions"]
        for payment in transactions:
            key = None if args.no_key else payment["payment_id"]
            producer.send(args.topic, key=key, value=payment)
            sent += 1
    producer.flush(timeout=60)
    producer.close()
    print(sent)


if __name__ == "__main__":
    main()
