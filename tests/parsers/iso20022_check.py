#!/usr/bin/env python3
"""Reads ISO 20022 files with pyiso20022 (classes generated from the official schemas) and
prints what that independent model understood, as JSON, for tests to check links against.

Each file is parsed strictly (an element or attribute the schema does not define, or a
value its type refuses, is an error), then written back out by the same model and read
from that copy: what the summary shows is only what survived the schema's model.

usage: iso20022_check.py FILE...   (exit 1, with the parser's message, on a refused file)
"""
import importlib
import json
import sys
import xml.etree.ElementTree as ET

from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.serializers import XmlSerializer

MODULES = {
    "pacs.008.001.08": "pyiso20022.pacs.pacs_008_001_08",
    "pacs.002.001.10": "pyiso20022.pacs.pacs_002_001_10",
    "pacs.004.001.09": "pyiso20022.pacs.pacs_004_001_09",
    "camt.053.001.08": "pyiso20022.camt.camt_053_001_08",
}
PREFIX = "urn:iso:std:iso:20022:tech:xsd:"


def roundtrip(path):
    """The file's message name and its root, as pyiso20022's model writes it back."""
    text = open(path, encoding="utf-8").read()
    namespace = ET.fromstring(text).tag.split("}")[0].lstrip("{")
    name = namespace[len(PREFIX):]
    if name not in MODULES:
        raise SystemExit(f"{path}: {namespace} is not a message this check reads")
    module = importlib.import_module(MODULES[name])
    config = ParserConfig(
        fail_on_unknown_properties=True,
        fail_on_unknown_attributes=True,
        fail_on_converter_warnings=True,
    )
    document = XmlParser(config=config).from_string(text, module.Document)
    again = XmlSerializer().render(document, ns_map={None: namespace})
    return name, ET.fromstring(again), namespace


def summary(path):
    name, root, namespace = roundtrip(path)
    ns = {"d": namespace}

    def text(node, path_):
        found = node.find(path_, ns)
        return None if found is None else (found.text or "")

    def amount(node, path_):
        found = node.find(path_, ns)
        return None if found is None else {"value": found.text, "ccy": found.get("Ccy")}

    out = {"message": name}
    if name.startswith("pacs.008"):
        out["msg_id"] = text(root, "d:FIToFICstmrCdtTrf/d:GrpHdr/d:MsgId")
        out["transactions"] = [
            {
                "tx_id": text(tx, "d:PmtId/d:TxId"),
                "instr_id": text(tx, "d:PmtId/d:InstrId"),
                "end_to_end_id": text(tx, "d:PmtId/d:EndToEndId"),
                "amount": amount(tx, "d:IntrBkSttlmAmt"),
            }
            for tx in root.findall("d:FIToFICstmrCdtTrf/d:CdtTrfTxInf", ns)
        ]
    elif name.startswith("pacs.002"):
        report = root.find("d:FIToFIPmtStsRpt", ns)
        out["original_msg_id"] = text(report, "d:OrgnlGrpInfAndSts/d:OrgnlMsgId")
        out["statuses"] = [
            {
                "tx_id": text(tx, "d:OrgnlTxId"),
                "instr_id": text(tx, "d:OrgnlInstrId"),
                "end_to_end_id": text(tx, "d:OrgnlEndToEndId"),
                "status": text(tx, "d:TxSts"),
                "reason": text(tx, "d:StsRsnInf/d:Rsn/d:Cd"),
            }
            for tx in report.findall("d:TxInfAndSts", ns)
        ]
    elif name.startswith("pacs.004"):
        out["returns"] = [
            {
                "original_msg_id": text(tx, "d:OrgnlGrpInf/d:OrgnlMsgId"),
                "tx_id": text(tx, "d:OrgnlTxId"),
                "instr_id": text(tx, "d:OrgnlInstrId"),
                "end_to_end_id": text(tx, "d:OrgnlEndToEndId"),
                "amount": amount(tx, "d:RtrdIntrBkSttlmAmt"),
                "reason": text(tx, "d:RtrRsnInf/d:Rsn/d:Cd"),
            }
            for tx in root.findall("d:PmtRtr/d:TxInf", ns)
        ]
    else:
        statements = []
        for stmt in root.findall("d:BkToCstmrStmt/d:Stmt", ns):
            balances = {
                text(b, "d:Tp/d:CdOrPrtry/d:Cd"): {
                    "amount": amount(b, "d:Amt"),
                    "indicator": text(b, "d:CdtDbtInd"),
                    "date": text(b, "d:Dt/d:Dt"),
                }
                for b in stmt.findall("d:Bal", ns)
            }
            statements.append(
                {
                    "account": text(stmt, "d:Acct/d:Id/d:IBAN") or text(stmt, "d:Acct/d:Id/d:Othr/d:Id"),
                    "currency": text(stmt, "d:Acct/d:Ccy"),
                    "opening": balances.get("OPBD"),
                    "closing": balances.get("CLBD"),
                    "entries": [
                        {
                            "amount": amount(e, "d:Amt"),
                            "indicator": text(e, "d:CdtDbtInd"),
                            "tx_id": text(e, "d:NtryDtls/d:TxDtls/d:Refs/d:TxId"),
                        }
                        for e in stmt.findall("d:Ntry", ns)
                    ],
                }
            )
        out["statements"] = statements
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = []
    for path in sys.argv[1:]:
        try:
            results.append(summary(path))
        except Exception as error:  # the parser's own message is the point
            print(f"pyiso20022 refused {path}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
