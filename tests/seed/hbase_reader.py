"""Reads and writes the payments table the way the seed's happybase code did.

    python3 tests/seed/hbase_reader.py --port 9090 --table T COMMAND [ARGS]

Commands, each printing one JSON object:
  scan                         every row, as `verify_hbase.py` reads it: each cell decoded as
                               UTF-8; {"rows", "undecodable", "row_keys_undecodable"}.
  time-range START END         `PaymentQuery.query_by_time_range` (YYYY-MM-DD, row-key scan
                               from START to END + 'zzz'); {"rows", "undecodable",
                               "payment_ids"}.
  type-customer TYPE CUSTOMER  `PaymentQuery.query_by_type_and_customer`: the server filters
                               `SingleColumnValueFilter('cf', 'payment_type', =, 'binary:TYPE')
                               AND ... 'originator_id' ...`; same answer.
  write-seed-rows FILE         puts each payment of FILE (a `{"transactions": [...]}`
                               document) as the seed's `PaymentNormalizer` and `WriteToHBase`
                               did: row key `{yyyyMMddHHmmss}_{payment_type}_{originator id}`,
                               nine `cf` columns as `str()` of the value, no body;
                               {"written", "row_keys"}.
  write-row KEY QUALIFIER=VALUE...  one raw row (values as given, UTF-8).

A cell that is not UTF-8 is counted in "undecodable" and its row left out, as the seed's
reader logged and skipped it.
"""

import argparse
import json
from datetime import datetime

import happybase


def decode_row(key, data):
    """The seed's decoding: every cell's value as UTF-8, keyed by qualifier."""
    payment = {col.decode("utf-8").split(":")[1]: val.decode("utf-8") for col, val in data.items()}
    payment["row_key"] = key.decode("utf-8")
    return payment


def read(rows):
    found, undecodable = [], 0
    for key, data in rows:
        try:
            found.append(decode_row(key, data))
        except UnicodeDecodeError:
            undecodable += 1
    return found, undecodable


def day_prefix(date):
    return datetime.strptime(date, "%Y-%m-%d").strftime("%Y%m%d")


def seed_row(payment):
    """The seed's PaymentNormalizer: its row key and its flattened columns."""
    at = datetime.fromisoformat(payment["created_at"]).strftime("%Y%m%d%H%M%S")
    key = f"{at}_{payment['payment_type']}_{payment['originator']['party_id']}"
    data = {
        "payment_id": payment["payment_id"],
        "payment_type": payment["payment_type"],
        "amount_value": str(payment["amount"]["value"]),
        "amount_currency": payment["amount"]["currency"],
        "originator_id": payment["originator"]["party_id"],
        "originator_name": payment["originator"]["name"],
        "created_at": payment["created_at"],
    }
    if "beneficiary" in payment:
        data["beneficiary_id"] = payment["beneficiary"].get("party_id", "")
        data["beneficiary_name"] = payment["beneficiary"].get("name", "")
    return key, {f"cf:{k}": str(v) for k, v in data.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--table", default="payments")
    parser.add_argument("command")
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    connection = happybase.Connection(args.host, port=args.port, protocol="binary",
                                      transport="buffered", autoconnect=True)
    table = connection.table(args.table)
    try:
        if args.command == "scan":
            rows = list(table.scan())
            found, undecodable = read(rows)
            keys_undecodable = 0
            for key, _ in rows:
                try:
                    key.decode("utf-8")
                except UnicodeDecodeError:
                    keys_undecodable += 1
            out = {"rows": len(found), "undecodable": undecodable,
                   "row_keys_undecodable": keys_undecodable}
        elif args.command == "time-range":
            start, end = args.args
            rows = table.scan(row_start=day_prefix(start).encode(),
                              row_stop=(day_prefix(end) + "zzz").encode(), batch_size=1000)
            found, undecodable = read(rows)
            out = {"rows": len(found), "undecodable": undecodable,
                   "payment_ids": sorted(p["payment_id"] for p in found)}
        elif args.command == "type-customer":
            payment_type, customer = args.args
            filter_string = (
                f"SingleColumnValueFilter('cf', 'payment_type', =, 'binary:{payment_type}') AND "
                f"SingleColumnValueFilter('cf', 'originator_id', =, 'binary:{customer}')"
            )
            found, undecodable = read(table.scan(filter=filter_string))
            out = {"rows": len(found), "undecodable": undecodable,
                   "payment_ids": sorted(p["payment_id"] for p in found)}
        elif args.command == "write-seed-rows":
            with open(args.args[0]) as f:
                transactions = json.load(f)["transactions"]
            keys = []
            with table.batch(batch_size=500) as batch:
                for payment in transactions:
                    key, data = seed_row(payment)
                    batch.put(key.encode("utf-8"), data)
                    keys.append(key)
            out = {"written": len(keys), "row_keys": keys}
        elif args.command == "write-row":
            key, *cells = args.args
            data = dict(cell.split("=", 1) for cell in cells)
            table.put(key.encode("utf-8"), {f"cf:{q}": v for q, v in data.items()})
            out = {"written": 1}
        else:
            parser.error(f"unknown command {args.command}")
    finally:
        connection.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
